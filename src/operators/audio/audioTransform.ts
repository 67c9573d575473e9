/**
 * `audioTransform`: brings audio to a target sample rate and channel count in one node (channelMix + resample).
 * @module
 */
import { z } from 'zod';
import { coreOperator, type NodeCore } from '../../internal/coreOperator.js';
import { checkAudioFrame, type AudioFrame } from '../../media/audioFrame.js';
import { defineNode } from '../../node.js';
import { MAX_MIX_CHANNELS, mixChannels } from './internal/channelMixInternals.js';
import { createResampleCore, DEFAULT_RESAMPLE_QUALITY, MAX_SAMPLE_RATE, RESAMPLE_QUALITIES, type ResampleQuality } from './internal/resampleInternals.js';

const NODE = 'audio.audioTransform';

const AudioTransformParamsSchema = z
  .object({
    sampleRate: z
      .number()
      .int()
      .min(1)
      .max(MAX_SAMPLE_RATE)
      .optional()
      .describe(`Output sample rate in Hz (integer, 1 to ${MAX_SAMPLE_RATE}). Default: absent = keep each frame's rate.`),
    channels: z
      .number()
      .int()
      .min(1)
      .max(MAX_MIX_CHANNELS)
      .optional()
      .describe(`Output channel count (integer, 1 to ${MAX_MIX_CHANNELS}). Default: absent = keep each frame's channels.`),
    quality: z
      .enum(RESAMPLE_QUALITIES)
      .default(DEFAULT_RESAMPLE_QUALITY)
      .describe(`libsamplerate converter, as for audio.resample. Default: '${DEFAULT_RESAMPLE_QUALITY}'.`),
  })
  .describe('Converts audio to a target sample rate and channel count (channel mix + resample)');

/** Params of {@link audioTransform}. */
export type AudioTransformParams = z.input<typeof AudioTransformParamsSchema>;

function createAudioTransformCore(sampleRate: number | undefined, channels: number | undefined, quality: ResampleQuality): NodeCore<AudioFrame, AudioFrame> {
  const resampler = sampleRate === undefined ? null : createResampleCore(NODE, sampleRate, quality);
  const mix = (frame: AudioFrame): AudioFrame => (channels === undefined ? frame : mixChannels(frame, channels));
  return {
    push(item, emit) {
      const frame = checkAudioFrame(item, NODE);
      if (!resampler) return emit(mix(frame));
      // Down-mix before resampling so the converter handles fewer channels; up-mix after, for the same reason.
      // Mixing a frame that already has `channels` is the identity, so the post-mix is free after a pre-mix.
      const input = channels !== undefined && frame.channels > channels ? mix(frame) : frame;
      resampler.push(input, (out) => emit(mix(out)));
    },
    flush(emit) {
      resampler?.flush?.((out) => emit(mix(out)));
    },
    close() {
      resampler?.close?.();
    },
  };
}

/**
 * Converts every frame to `sampleRate` Hz and `channels` channels; an absent param leaves that property as it is
 * (so `audioTransform()` passes frames through). Equivalent to `channelMix` + `resample` with their rules (mix
 * rules: down-mix averages, up-mix copies; resample: libsamplerate, pts from sample counts, metadata kept), run in the
 * cheaper order: down-mix first, up-mix last.
 *
 * On complete: emits the resampler's held tail (round(inputFrames × sampleRate / inRate) frames per format run in
 * total), then completes. A change of input rate or channel count mid-stream flushes the tail first. On error or
 * unsubscribe: drops the tail; the converter is freed in every case.
 *
 * Errors: `INVALID_PARAMS` (field `sampleRate`, `channels` or `quality`); `INVALID_INPUT` when an item is not an
 * AudioFrame or is beyond libsamplerate's limits (see `resample`).
 *
 * @example
 * ```ts
 * webrtcMic$.pipe(audioTransform({ sampleRate: 16000, channels: 1 })); // 48 kHz stereo → 16 kHz mono
 * ```
 */
export const audioTransform = defineNode(
  NODE,
  AudioTransformParamsSchema,
  ({ sampleRate, channels, quality }) => coreOperator<AudioFrame, AudioFrame>(NODE, () => createAudioTransformCore(sampleRate, channels, quality)),
  { description: 'Converts audio to a target sample rate and channel count; flushes the resampler tail on complete', input: 'audio', output: 'audio' },
);
