/**
 * `voicePipeline`: the whole speech-to-speech chain as one node.
 * @module
 */
import { pipe } from 'rxjs';
import { z } from 'zod';
import { InvalidParamsError } from '../../errors.js';
import type { AudioFrame } from '../../media/audioFrame.js';
import { defineNode, type NodeOperator } from '../../node.js';
import { audioBuffer } from '../audio/audioBuffer.js';
import { resample } from '../audio/resample.js';
import { vadTriggeredBuffer, type VadTriggeredBufferParams } from '../audio/vadTriggeredBuffer.js';
import { respond, type RespondParams } from './respond.js';
import { speechToText, type SpeechToTextParams } from './speechToText.js';
import { textToSpeech, type TextToSpeechParams } from './textToSpeech.js';
import { vad, type VadParams } from './vad.js';

const NODE = 'ml.voicePipeline';

/** Rate the speech stages run at, Hz (Silero and pocketsphinx both take 16 kHz). */
const SPEECH_RATE = 16_000;

const stageParams = (stage: string, defaults: string): z.ZodOptional<z.ZodRecord<z.ZodString, z.ZodUnknown>> =>
  z.record(z.string(), z.unknown()).optional().describe(`Params of the ${stage} stage (see that node). Default: ${defaults}.`);

const VoicePipelineParamsSchema = z
  .object({
    vad: stageParams('vad', '{} (Silero, threshold 0.5)'),
    buffer: stageParams('vadTriggeredBuffer', '{ preRollMs: 1000, minSpeechMs: 1000, minSilenceMs: 500 } (the predecessor\'s values)'),
    stt: stageParams('speechToText', "{} (engine 'pocketsphinx'; give phrases or a grammar for exact offline recognition)"),
    respond: stageParams('respond', "{} (engine 'echo')"),
    tts: stageParams('textToSpeech', "{} (engine 'espeak')"),
    outputSampleRate: z.number().int().min(8000).max(192_000).default(24_000).describe('Sample rate of the audio emitted, Hz. Default: 24000 (Kokoro\'s native rate).'),
    frameMs: z.number().positive().max(1000).default(20).describe('Duration of each emitted frame, in milliseconds (the last one may be shorter). Default: 20 ms.'),
  })
  .describe('The speech-to-speech chain: resample → vad → vadTriggeredBuffer → speechToText → respond → textToSpeech → frames.');

/** Params of {@link voicePipeline}; every field is optional. */
export interface VoicePipelineParams {
  readonly vad?: VadParams;
  readonly buffer?: VadTriggeredBufferParams;
  readonly stt?: SpeechToTextParams;
  readonly respond?: RespondParams;
  readonly tts?: TextToSpeechParams;
  /** Hz. Default: 24000. */
  readonly outputSampleRate?: number;
  /** Milliseconds. Default: 20. */
  readonly frameMs?: number;
}

/** Builds one stage, reporting its bad params as this node's field `<stage>.<field>`. */
function stage<T>(name: string, build: () => T): T {
  try {
    return build();
  } catch (e) {
    if (e instanceof InvalidParamsError) throw new InvalidParamsError(NODE, e.field === '' ? name : `${name}.${e.field}`, e.message, { cause: e });
    throw e;
  }
}

/**
 * The predecessor's speech-to-speech chain as one composable operator: AudioFrames of speech in (any rate and
 * channels), spoken replies out as AudioFrames of `frameMs` at `outputSampleRate`:
 * `resample(16 kHz) → vad → vadTriggeredBuffer(1 s pre-roll, ≥ 1 s speech, 500 ms silence) → speechToText →
 * respond → textToSpeech → resample(outputSampleRate) → audioBuffer(frameMs)`.
 * Every stage is the public node of the same name (usable alone); this node only composes them, and is itself
 * registered, so the whole chain can run inside `remote()` from its spec.
 *
 * On complete: each stage flushes in turn (an open utterance is transcribed and answered), then completes.
 * On error: passes it on. Errors: those of the stages; bad stage params are `INVALID_PARAMS` naming
 * `<stage>.<field>` (e.g. `vad.threshold`).
 *
 * @param params - {@link VoicePipelineParams}: stage params, `outputSampleRate` 24000, `frameMs` 20 by default.
 * @example
 * ```ts
 * mic$.pipe(voicePipeline({ stt: { phrases: ['turn on the lights'] }, tts: { voice: 'en-gb' } })).subscribe(speaker);
 * ```
 */
// The builder is typed with the stages' own param types; the schema keeps them as records and each stage validates.
export const voicePipeline = defineNode(
  NODE,
  VoicePipelineParamsSchema,
  (p) => {
    const blockFrames = Math.max(1, Math.round((p.outputSampleRate * p.frameMs) / 1000));
    return pipe(
      resample({ rate: SPEECH_RATE }),
      stage('vad', () => vad(p.vad as VadParams | undefined)),
      stage('buffer', () => vadTriggeredBuffer((p.buffer ?? { preRollMs: 1000, minSpeechMs: 1000, minSilenceMs: 500 }) as VadTriggeredBufferParams)),
      stage('stt', () => speechToText(p.stt as SpeechToTextParams | undefined)),
      stage('respond', () => respond(p.respond as RespondParams | undefined)),
      stage('tts', () => textToSpeech(p.tts as TextToSpeechParams | undefined)),
      resample({ rate: p.outputSampleRate }),
      audioBuffer({ samples: blockFrames }),
    );
  },
  { description: 'The speech-to-speech chain: vad → utterances → speechToText → respond → textToSpeech', input: 'audio', output: 'audio' },
) as (params?: VoicePipelineParams) => NodeOperator<AudioFrame, AudioFrame>;
