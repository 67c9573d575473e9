/**
 * Channel mapping shared by `channelMix` and `audioTransform`.
 * @internal
 */
import type { AudioFrame } from '../../../media/audioFrame.js';

/** Highest output channel count the mixing nodes accept (a bound on per-frame allocation; 128 = libsamplerate's limit). */
export const MAX_MIX_CHANNELS = 128;

/**
 * Maps `frame` to `channels` channels. Rules (input has N channels, output M):
 * - M = N: the frame itself is returned;
 * - M < N: input channel i feeds output channel i mod M, and each output is the mean of the inputs that feed it
 *   (N→1 averages all; 4→2 gives L = (c0 + c2) / 2, R = (c1 + c3) / 2; 3→2 gives L = (c0 + c2) / 2, R = c1).
 *   A mean never leaves [-1, 1];
 * - M > N: output channel j copies input channel j mod N (mono→stereo duplicates; stereo→4 gives L R L R).
 * `sampleRate`, `pts` and `metadata` are kept.
 */
export function mixChannels(frame: AudioFrame, channels: number): AudioFrame {
  const inChannels = frame.channels;
  if (inChannels === channels) return frame;
  const frames = frame.samples.length / inChannels;
  const input = frame.samples;
  const out = new Float32Array(frames * channels);
  if (channels > inChannels) {
    for (let f = 0; f < frames; f++) {
      const from = f * inChannels;
      const to = f * channels;
      for (let j = 0; j < channels; j++) out[to + j] = input[from + (j % inChannels)]!;
    }
  } else {
    // Inputs per output: ceil(N / M) for the first (N mod M) outputs, floor(N / M) for the rest.
    const counts = Array.from({ length: channels }, (_, j) => Math.floor(inChannels / channels) + (j < inChannels % channels ? 1 : 0));
    for (let f = 0; f < frames; f++) {
      const from = f * inChannels;
      const to = f * channels;
      for (let i = 0; i < inChannels; i++) out[to + (i % channels)]! += input[from + i]!;
      for (let j = 0; j < channels; j++) out[to + j]! /= counts[j]!;
    }
  }
  return { ...frame, samples: out, channels };
}
