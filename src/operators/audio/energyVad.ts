/**
 * `energyVad`: a voice-activity detector by signal energy, the dependency-free default VAD.
 * @module
 */
import { z } from 'zod';
import { coreOperator, type NodeCore } from '../../internal/coreOperator.js';
import { checkAudioFrame, type AudioFrame } from '../../media/audioFrame.js';
import { defineNode } from '../../node.js';
import { withVad, type VadAnnotation } from './internal/vadInternals.js';

export type { VadAnnotation } from './internal/vadInternals.js';

const NODE = 'audio.energyVad';

/** Fraction of a frame's windows that must be speech for the frame to count as speech. */
const SPEECH_RATIO_FOR_SPEECH = 0.5;

const EnergyVadParamsSchema = z
  .object({
    frameMs: z.number().positive().max(10_000).default(30)
      .describe('Length of one analysis window in milliseconds; windows run across input frame boundaries. Default: 30 ms.'),
    threshold: z.number().min(0).max(1).default(0.02)
      .describe('RMS level (samples in [-1, 1], all channels pooled) at or above which a window is speech. Default: 0.02 (about -34 dBFS).'),
    mode: z.enum(['annotate', 'filter']).default('annotate')
      .describe("'annotate' passes every frame with metadata.vad; 'filter' passes only frames judged speech. Default: 'annotate'."),
  })
  .describe('Detects speech by RMS energy and annotates each audio frame with metadata.vad.');

/** Params of {@link energyVad}; every field is optional. */
export type EnergyVadParams = z.input<typeof EnergyVadParamsSchema>;

function createCore({ frameMs, threshold, mode }: z.output<typeof EnergyVadParamsSchema>): NodeCore<AudioFrame, AudioFrame> {
  let sampleRate = 0;
  let channels = 0;
  let windowFrames = 0;
  // The open analysis window carries over to the next input frame, so windows are independent of frame sizes.
  let windowSquares = 0;
  let windowFilled = 0;

  return {
    push(item, emit) {
      const frame = checkAudioFrame(item, NODE);
      if (frame.sampleRate !== sampleRate || frame.channels !== channels) {
        // A new format starts a new window: mixing sample rates in one RMS would mean nothing.
        ({ sampleRate, channels } = frame);
        windowFrames = Math.max(1, Math.round((sampleRate * frameMs) / 1000));
        windowSquares = 0;
        windowFilled = 0;
      }
      let windows = 0;
      let speechWindows = 0;
      let energySum = 0;
      const judge = (rms: number): void => {
        windows++;
        energySum += rms;
        if (rms >= threshold) speechWindows++;
      };
      const { samples } = frame;
      let channel = 0;
      for (let i = 0; i < samples.length; i++) {
        const s = samples[i]!;
        windowSquares += s * s;
        if (++channel < channels) continue;
        channel = 0;
        if (++windowFilled === windowFrames) {
          judge(Math.sqrt(windowSquares / (windowFrames * channels)));
          windowSquares = 0;
          windowFilled = 0;
        }
      }
      // A frame shorter than a window still gets a decision: the open window as it stands (it includes this frame).
      if (windows === 0 && windowFilled > 0) judge(Math.sqrt(windowSquares / (windowFilled * channels)));
      const speechRatio = windows === 0 ? 0 : speechWindows / windows;
      const vad: VadAnnotation = {
        isSpeech: windows > 0 && speechRatio >= SPEECH_RATIO_FOR_SPEECH,
        speechRatio,
        avgEnergy: windows === 0 ? 0 : energySum / windows,
      };
      if (mode === 'filter' && !vad.isSpeech) return;
      emit(withVad(frame, vad));
    },
  };
}

/**
 * Voice-activity detection by energy. Each input frame is cut into analysis windows of `frameMs` (the window open at
 * the end of a frame continues into the next one); a window is speech when its RMS — the square root of the mean
 * square of all its samples, channels pooled — is ≥ `threshold`. The frame is re-emitted as a new object (samples
 * shared, existing metadata kept) with `metadata.vad = { isSpeech, speechRatio, avgEnergy }`:
 * - the windows judged for a frame are those that end inside it; a frame in which none ends (shorter than a window)
 *   is judged on the open window so far;
 * - `speechRatio` = speech windows / windows judged; `isSpeech` = `speechRatio ≥ 0.5`; `avgEnergy` = mean window RMS;
 * - an empty frame gets `{ isSpeech: false, speechRatio: 0, avgEnergy: 0 }` unless a window is open.
 * A change of sampleRate or channels starts a fresh window.
 *
 * `mode: 'filter'` drops frames that are not speech instead of passing them.
 *
 * On complete: completes (nothing is held back; a partial window is just dropped). On error: passes it on.
 * Errors: `INVALID_INPUT` for an item that is not an AudioFrame; `INVALID_PARAMS` for bad params.
 *
 * @param params - {@link EnergyVadParams}: `frameMs` default 30, `threshold` default 0.02 RMS, `mode` default `'annotate'`.
 * @example
 * ```ts
 * fromWavFile('speech.wav').pipe(energyVad({ threshold: 0.03 }), vadTriggeredBuffer()).subscribe(console.log);
 * ```
 */
export const energyVad = defineNode(
  NODE,
  EnergyVadParamsSchema,
  (params) => coreOperator(NODE, () => createCore(params)),
  { description: 'Detects speech by RMS energy and annotates each audio frame with metadata.vad', input: 'audio', output: 'audio' },
);
