/**
 * `textToSpeech`: text in, speech AudioFrames out, sentence by sentence.
 * @module
 */
import { z } from 'zod';
import { acquireEngine, checkEngineName } from '../../engines/index.js';
import { InvalidInputError } from '../../errors.js';
import { MICROS_PER_SECOND, type AudioFrame } from '../../media/audioFrame.js';
import { defineNode } from '../../node.js';
import { asyncCoreOperator, type AsyncNodeCore } from '../../internal/asyncCoreOperator.js';
import { andThen, forEachInOrder } from './internal/maybePromise.js';
import { queueParams } from './internal/mlParams.js';
import { splitSentences } from './internal/sentences.js';

const NODE = 'ml.textToSpeech';

/** What {@link textToSpeech} consumes: a string, or any object with a `text` string (a `Transcript`, a reply). */
export type TextInput = string | { readonly text: string };

/** `metadata.tts` of each frame {@link textToSpeech} emits. */
export interface SpeechMetadata {
  /** The sentence this frame speaks. */
  readonly text: string;
  readonly engine: string;
  readonly voice: string;
}

const TextToSpeechParamsSchema = z
  .object({
    engine: z.string().default('espeak').describe("Engine name: 'espeak' (offline, Debian espeak-ng, 22050 Hz) or 'kokoro' (kokoro-js, local model directory, 24000 Hz). Default: 'espeak'."),
    voice: z.string().min(1).optional().describe("Voice: espeak-ng voice (e.g. 'en-us', 'en-gb') or Kokoro voice (e.g. 'af_heart'). Default: the engine's ('en-us' / 'af_heart')."),
    speed: z.number().min(0.25).max(4).default(1).describe('Speaking-rate factor, 1 = normal. Default: 1.'),
    model: z.string().optional().describe("kokoro: model id, a folder under modelDir. Default: 'onnx-community/Kokoro-82M-v1.0-ONNX'."),
    modelDir: z.string().optional().describe('kokoro: local model directory. Default: $REMOTEMEDIA_MODELS.'),
    dtype: z.enum(['fp32', 'fp16', 'q8', 'q4', 'q4f16']).optional().describe("kokoro: weights variant (fp32 → onnx/model.onnx, q8 → onnx/model_quantized.onnx, ...). Default: 'q8'."),
    ...queueParams,
  })
  .describe('Synthesizes each text into speech AudioFrames, one frame per sentence, as each sentence is ready.');

/** Params of {@link textToSpeech}; every field is optional. */
export type TextToSpeechParams = z.input<typeof TextToSpeechParamsSchema>;
type Settings = z.output<typeof TextToSpeechParamsSchema>;

function engineOptions(p: Settings): Record<string, unknown> {
  const { model, modelDir, dtype } = p;
  return Object.fromEntries(Object.entries({ model, modelDir, dtype }).filter(([, v]) => v !== undefined));
}

function readText(item: unknown): string {
  if (typeof item === 'string') return item;
  if (typeof item === 'object' && item !== null && typeof (item as { text?: unknown }).text === 'string') return (item as { text: string }).text;
  throw new InvalidInputError(NODE, '', 'expected a string or an object with a text string (e.g. a Transcript)');
}

function createCore(p: Settings): AsyncNodeCore<TextInput, AudioFrame> {
  const lease = acquireEngine('tts', p.engine, engineOptions(p));
  // Output time runs on from the samples emitted so far: the stream is one continuous voice track.
  let samplesOut = 0;
  return {
    push(item, emit, signal) {
      const sentences = splitSentences(readText(item));
      return andThen(lease.engine, (engine) => {
        const { sampleRate, defaultVoice } = engine.capabilities;
        const voice = p.voice ?? defaultVoice;
        return forEachInOrder(sentences, (sentence) =>
          andThen(engine.synthesize(sentence, { voice, speed: p.speed }, signal), (samples) => {
            if (samples.length === 0) return;
            const tts: SpeechMetadata = { text: sentence, engine: engine.label, voice };
            emit({ samples, sampleRate, channels: 1, pts: (samplesOut / sampleRate) * MICROS_PER_SECOND, metadata: { tts } });
            samplesOut += samples.length;
          }),
        );
      });
    },
    close() {
      lease.release();
    },
  };
}

/**
 * Text to speech: consumes strings (or objects with a `text` string, e.g. Transcripts) and emits mono AudioFrames
 * at the engine's native rate (espeak 22050 Hz, Kokoro 24000 Hz; add `resample` for another), ONE FRAME PER
 * SENTENCE, each as soon as it is synthesized — the first sentence plays while the next is being made. Each input
 * is a complete text: it is split into sentences at . ! ? … and line breaks (long ones at commas). `pts` counts the
 * samples emitted since subscribe; `metadata.tts = { text, engine, voice }` says what each frame speaks.
 * Engines (shared per process and options): `espeak` (default; Debian espeak-ng) and `kokoro` (kokoro-js, weights
 * from `modelDir`/`$REMOTEMEDIA_MODELS`, never downloaded).
 *
 * On complete: completes after the queued texts are spoken. On error: passes it on. On unsubscribe: the running
 * synthesis is aborted (espeak's process killed).
 * Errors: `INVALID_INPUT` (not text), `INVALID_PARAMS` (bad params, unknown engine), `UNAVAILABLE`
 * (`EngineUnavailableError`: espeak-ng not installed, Kokoro files missing — named in the message), `NODE_FAILED`
 * (e.g. an unknown voice), `OVERFLOW` per the overflow policy.
 *
 * @param params - {@link TextToSpeechParams}: `engine` 'espeak', `speed` 1, `queueSize` 16, `overflow` 'block' by
 *   default.
 * @example
 * ```ts
 * of('Hello there. How are you?').pipe(textToSpeech({ voice: 'en-gb' }), toWavFile('reply.wav')).subscribe();
 * ```
 */
export const textToSpeech = defineNode(
  NODE,
  TextToSpeechParamsSchema,
  (p) => {
    checkEngineName('tts', p.engine, NODE);
    return asyncCoreOperator<TextInput, AudioFrame>(NODE, () => createCore(p), p);
  },
  { description: 'Synthesizes text into speech AudioFrames, one per sentence, as each is ready', input: 'text', output: 'audio' },
);
