/**
 * The pure half of `vad()`: cuts any audio into the model's windows and turns window probabilities into the
 * `VadAnnotation` of each frame, with hysteresis. Time comes from sample counts only.
 * @internal
 */
import type { AudioFrame } from '../../../media/audioFrame.js';
import type { VadAnnotation } from '../../audio/internal/vadInternals.js';
import { downmix, LinearResampler } from './audioPrep.js';

/** Settings of {@link VadDecision}, all times in milliseconds. */
export interface VadDecisionSettings {
  /** Model rate, Hz. */
  readonly modelRate: number;
  /** Window length at the model rate, samples. */
  readonly windowSamples: number;
  /** Probability at or above which a window counts towards speech. */
  readonly threshold: number;
  /** Probability below which a window counts towards silence (hysteresis; between the two, nothing changes). */
  readonly negativeThreshold: number;
  /** Consecutive speech windows needed to switch to speech. */
  readonly minSpeechMs: number;
  /** Consecutive silence windows needed to switch back to silence. */
  readonly minSilenceMs: number;
}

/**
 * Per-stream state: a resampler, the open window, and the speech/silence state machine.
 * - {@link VadDecision.windows} takes a frame and returns the complete windows that end inside it (the open window
 *   continues into the next frame, so frame sizes do not matter);
 * - {@link VadDecision.annotate} takes their probabilities and returns the frame's annotation: `speechRatio` =
 *   windows in the speech state / windows, `isSpeech` = ratio ≥ 0.5, `avgEnergy` = mean probability (the detector's
 *   unit). A frame in which no window ends inherits the current state and the last probability.
 */
export class VadDecision {
  private resampler: LinearResampler | undefined;
  private readonly open: Float32Array;
  private filled = 0;
  private speaking = false;
  private runMs = 0;
  private lastProbability = 0;
  private readonly windowMs: number;

  constructor(private readonly settings: VadDecisionSettings) {
    this.open = new Float32Array(settings.windowSamples);
    this.windowMs = (settings.windowSamples / settings.modelRate) * 1000;
  }

  windows(frame: AudioFrame): Float32Array[] {
    if (this.resampler?.inputRate !== frame.sampleRate) {
      // A new rate restarts the resampler; the open window keeps its (already resampled) samples.
      this.resampler = new LinearResampler(frame.sampleRate, this.settings.modelRate);
    }
    const mono = this.resampler.process(downmix(frame));
    const out: Float32Array[] = [];
    const size = this.open.length;
    let at = 0;
    while (at < mono.length) {
      const take = Math.min(size - this.filled, mono.length - at);
      this.open.set(mono.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === size) {
        out.push(this.open.slice());
        this.filled = 0;
      }
    }
    return out;
  }

  annotate(probabilities: readonly number[]): VadAnnotation {
    if (probabilities.length === 0) {
      return { isSpeech: this.speaking, speechRatio: this.speaking ? 1 : 0, avgEnergy: this.lastProbability };
    }
    const { threshold, negativeThreshold, minSpeechMs, minSilenceMs } = this.settings;
    let speechWindows = 0;
    let sum = 0;
    for (const p of probabilities) {
      sum += p;
      if (!this.speaking) {
        this.runMs = p >= threshold ? this.runMs + this.windowMs : 0;
        if (p >= threshold && this.runMs >= minSpeechMs) {
          this.speaking = true;
          this.runMs = 0;
        }
      } else {
        this.runMs = p < negativeThreshold ? this.runMs + this.windowMs : 0;
        if (p < negativeThreshold && this.runMs >= minSilenceMs) {
          this.speaking = false;
          this.runMs = 0;
        }
      }
      if (this.speaking) speechWindows++;
    }
    this.lastProbability = probabilities[probabilities.length - 1]!;
    const speechRatio = speechWindows / probabilities.length;
    return { isSpeech: speechRatio >= 0.5, speechRatio, avgEnergy: sum / probabilities.length };
  }
}
