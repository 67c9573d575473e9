/**
 * Turning any AudioFrame into what a speech model wants: mono, at the model's rate. Linear interpolation is enough
 * here: VAD and recognizers look at the speech band, far below either Nyquist frequency, and a linear resampler has
 * no delay, so window positions map exactly back to input samples. Use the `resample` node for listening quality.
 * @internal
 */
import type { AudioFrame } from '../../../media/audioFrame.js';
import { mixChannels } from '../../audio/internal/channelMixInternals.js';

/** Averages interleaved channels into one (returns the samples themselves for mono); `channelMix`'s N→1 rule. */
export function downmix(frame: AudioFrame): Float32Array {
  return mixChannels(frame, 1).samples;
}

/** A streaming linear resampler for mono audio; state carries across calls so chunk sizes do not matter. */
export class LinearResampler {
  private readonly step: number;
  // Position of the next output in input samples, where index 0 is the last sample of the previous chunk.
  private pos = 1;
  private prev = 0;

  constructor(
    readonly inputRate: number,
    readonly outputRate: number,
  ) {
    this.step = inputRate / outputRate;
  }

  process(input: Float32Array): Float32Array {
    if (this.inputRate === this.outputRate) return input;
    const n = input.length;
    if (n === 0) return input;
    const out = new Float32Array(Math.ceil((n - this.pos + 1) / this.step) + 1);
    let count = 0;
    let pos = this.pos;
    while (pos <= n) {
      const i = Math.floor(pos);
      const frac = pos - i;
      const a = i === 0 ? this.prev : input[i - 1]!;
      const b = i >= n ? a : input[i]!;
      out[count++] = a + (b - a) * frac;
      pos += this.step;
    }
    this.pos = pos - n;
    this.prev = input[n - 1]!;
    return out.subarray(0, count);
  }
}

/** Mono samples of a whole frame at `rate` (one-shot, for utterances). */
export function toMonoAt(frame: AudioFrame, rate: number): Float32Array {
  const mono = downmix(frame);
  return frame.sampleRate === rate ? mono : new LinearResampler(frame.sampleRate, rate).process(mono);
}
