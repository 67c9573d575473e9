/**
 * `speechToText`: one transcript per utterance, by a pluggable engine.
 * @module
 */
import { z } from 'zod';
import { acquireEngine, checkEngineName } from '../../engines/index.js';
import { checkAudioFrame, durationMicros, type AudioFrame } from '../../media/audioFrame.js';
import { defineNode } from '../../node.js';
import { asyncCoreOperator, type AsyncNodeCore } from '../../internal/asyncCoreOperator.js';
import { toMonoAt } from './internal/audioPrep.js';
import { andThen } from './internal/maybePromise.js';
import { queueParams } from './internal/mlParams.js';

const NODE = 'ml.speechToText';

/** What {@link speechToText} emits for each utterance. */
export interface Transcript {
  /** Recognized text, words separated by single spaces. */
  readonly text: string;
  /** pts of the utterance's first sample, µs (`metadata.utterance.startPts` when present, else the frame's pts). */
  readonly startPts: number;
  /** pts just after its last sample, µs. */
  readonly endPts: number;
  /** Engine that produced it, e.g. `'pocketsphinx'`. */
  readonly engine: string;
  /** Engine confidence 0..1, when the engine reports one. */
  readonly confidence?: number;
}

const SpeechToTextParamsSchema = z
  .object({
    engine: z.string().default('pocketsphinx').describe("Engine name: 'pocketsphinx' (offline, Debian packages) or 'whisper' (transformers.js, local model directory). Default: 'pocketsphinx'."),
    language: z.string().optional().describe("Language: pocketsphinx model directory name (e.g. 'en-us'), whisper language (e.g. 'english'). Default: the engine's ('en-us' / model default)."),
    grammar: z.string().optional().describe('pocketsphinx: JSGF grammar text constraining recognition. Default: none.'),
    phrases: z.array(z.string().min(1)).min(1).optional().describe('pocketsphinx: the phrases to recognize (built into a JSGF grammar). Default: none.'),
    keywords: z.array(z.string().min(1)).min(1).optional().describe('pocketsphinx: keyphrases to spot. Default: none.'),
    keywordThreshold: z.number().positive().optional().describe('pocketsphinx: keyphrase detection threshold, lower detects more (and more falsely). Default: 1e-30.'),
    model: z.string().optional().describe("whisper: model id, a folder under modelDir. Default: 'onnx-community/whisper-tiny.en'."),
    dtype: z.enum(['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4']).optional().describe("whisper: weights variant (fp32 → onnx/*_model.onnx, q8 → onnx/*_model_quantized.onnx, ...). Default: 'q8'."),
    modelDir: z.string().optional().describe('Local model directory (pocketsphinx: holds <language>/, cmudict-<language>.dict, <language>.lm.bin; whisper: transformers.js models as <modelDir>/<org>/<name>/). Default: /usr/share/pocketsphinx/model/<language> for pocketsphinx, $REMOTEMEDIA_MODELS for whisper.'),
    emitEmpty: z.boolean().default(false).describe('Emit transcripts whose text is empty (nothing recognized). Default: false.'),
    ...queueParams,
  })
  .describe('Transcribes each utterance AudioFrame into a Transcript { text, startPts, endPts, engine, confidence? }.');

/** Params of {@link speechToText}; every field is optional. */
export type SpeechToTextParams = z.input<typeof SpeechToTextParamsSchema>;
type Settings = z.output<typeof SpeechToTextParamsSchema>;

/** The params that configure the engine (and so select the shared engine instance). */
function engineOptions(p: Settings): Record<string, unknown> {
  const { language, grammar, phrases, keywords, keywordThreshold, model, modelDir, dtype } = p;
  return Object.fromEntries(Object.entries({ language, grammar, phrases, keywords, keywordThreshold, model, modelDir, dtype }).filter(([, v]) => v !== undefined));
}

function createCore(p: Settings): AsyncNodeCore<AudioFrame, Transcript> {
  const lease = acquireEngine('stt', p.engine, engineOptions(p));
  return {
    push(item, emit, signal) {
      const frame = checkAudioFrame(item, NODE);
      const utterance = frame.metadata?.['utterance'] as { startPts?: unknown; endPts?: unknown } | undefined;
      const startPts = typeof utterance?.startPts === 'number' ? utterance.startPts : frame.pts;
      const endPts = typeof utterance?.endPts === 'number' ? utterance.endPts : frame.pts + durationMicros(frame);
      return andThen(lease.engine, (engine) =>
        andThen(engine.recognize(toMonoAt(frame, engine.capabilities.sampleRate), signal), (r) => {
          if (r.text === '' && !p.emitEmpty) return;
          emit(r.confidence === undefined ? { text: r.text, startPts, endPts, engine: engine.label } : { text: r.text, startPts, endPts, engine: engine.label, confidence: r.confidence });
        }),
      );
    },
    close() {
      lease.release();
    },
  };
}

/**
 * Speech to text: consumes utterance AudioFrames (e.g. from `vadTriggeredBuffer`; any rate and channel count —
 * mixed to mono and linearly resampled to the engine's rate) and emits one {@link Transcript} per utterance, in
 * order. Engines (shared per process and options, see `preloadEngines`):
 * - `pocketsphinx` (default): Debian `pocketsphinx` + `pocketsphinx-en-us`, one warm `pocketsphinx_batch` process;
 *   exact with `phrases`/`grammar` (JSGF) or `keywords`, rough with its general language model.
 * - `whisper`: transformers.js ASR from a local directory (`modelDir` or `$REMOTEMEDIA_MODELS`), never a hub.
 *
 * On complete: completes after the queued utterances are transcribed. On error: passes it on. On unsubscribe:
 * late results are dropped; the engine stays loaded while other streams use it, and is closed (its process
 * killed) when the last one ends unless preloaded.
 * Errors: `INVALID_INPUT` (not an AudioFrame), `INVALID_PARAMS` (bad params, unknown engine), `UNAVAILABLE`
 * (`EngineUnavailableError`: binary or model missing — the message names what to install or which files are expected
 * where), `OVERFLOW` per the overflow policy.
 *
 * @param params - {@link SpeechToTextParams}: `engine` 'pocketsphinx', `emitEmpty` false, `queueSize` 16, `overflow`
 *   'block' by default.
 * @example
 * ```ts
 * mic$.pipe(resample({ rate: 16000 }), vad(), vadTriggeredBuffer(),
 *   speechToText({ phrases: ['turn on the lights', 'open the door'] })).subscribe((t) => console.log(t.text));
 * ```
 */
export const speechToText = defineNode(
  NODE,
  SpeechToTextParamsSchema,
  (p) => {
    checkEngineName('stt', p.engine, NODE);
    return asyncCoreOperator(NODE, () => createCore(p), p);
  },
  { description: 'Transcribes each utterance AudioFrame into a Transcript', input: 'audio', output: 'json' },
);
