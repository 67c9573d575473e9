/**
 * `vadTriggeredBuffer`: turns a VAD-annotated audio stream into one AudioFrame per utterance.
 * @module
 */
import { z } from 'zod';
import { InvalidInputError } from '../../errors.js';
import { coreOperator, type Emit, type NodeCore } from '../../internal/coreOperator.js';
import { checkAudioFrame, frameCount, MICROS_PER_SECOND, type AudioFrame } from '../../media/audioFrame.js';
import { defineNode } from '../../node.js';
import { readVad } from './internal/vadInternals.js';

const NODE = 'audio.vadTriggeredBuffer';

const VadTriggeredBufferParamsSchema = z
  .object({
    preRollMs: z.number().min(0).default(1000)
      .describe('Audio kept from before speech starts and prepended to the utterance, in milliseconds. Default: 1000 ms.'),
    minSpeechMs: z.number().min(0).default(1000)
      .describe('Least total speech in an utterance for it to be emitted (shorter ones are discarded), in milliseconds. Default: 1000 ms.'),
    minSilenceMs: z.number().min(0).default(500)
      .describe('Continuous silence that ends an utterance, in milliseconds; it is kept as the trailing part. Default: 500 ms.'),
    maxUtteranceMs: z.number().positive().default(10_000)
      .describe('Longest utterance emitted, pre-roll included, in milliseconds; longer speech is cut here. Default: 10000 ms.'),
  })
  .refine((p) => p.preRollMs < p.maxUtteranceMs, { path: ['preRollMs'], message: 'must be less than maxUtteranceMs' })
  .refine((p) => p.minSpeechMs <= p.maxUtteranceMs, { path: ['minSpeechMs'], message: 'must not exceed maxUtteranceMs' })
  .describe('Buffers VAD-annotated audio into one frame per utterance (pre-roll + speech + trailing silence).');

/** Params of {@link vadTriggeredBuffer}; every field is optional. */
export type VadTriggeredBufferParams = z.input<typeof VadTriggeredBufferParamsSchema>;

/** `metadata.utterance` of each frame {@link vadTriggeredBuffer} emits. */
export interface UtteranceMetadata {
  /** pts of the first sample (pre-roll included), µs. Equal to the frame's `pts`. */
  readonly startPts: number;
  /** startPts + duration from the sample count, µs (exclusive end). */
  readonly endPts: number;
  /** Total duration of the audio inside the utterance that came from frames judged speech (pre-roll included), ms. */
  readonly speechMs: number;
}

/** Splits `frame` after `frames` sample frames; both halves share its samples. */
function split(frame: AudioFrame, frames: number): [AudioFrame, AudioFrame] {
  const { samples, sampleRate, channels, pts } = frame;
  const at = frames * channels;
  return [
    { samples: samples.subarray(0, at), sampleRate, channels, pts },
    { samples: samples.subarray(at), sampleRate, channels, pts: pts + (frames / sampleRate) * MICROS_PER_SECOND },
  ];
}

/** A run of input audio with the VAD decision of the frame it came from. */
interface Part {
  readonly frame: AudioFrame;
  readonly speech: boolean;
}

function createCore(params: z.output<typeof VadTriggeredBufferParamsSchema>): NodeCore<AudioFrame, AudioFrame> {
  let sampleRate = 0;
  let channels = 0;
  // Durations in sample frames, fixed by the first input frame's sample rate.
  let preRollFrames = 0;
  let minSpeechFrames = 0;
  let minSilenceFrames = 0;
  let maxFrames = 0;

  // Idle: the pre-roll ring. It holds speech only when a discarded utterance fell back into it.
  let ring: Part[] = [];
  let ringFrames = 0;
  let ringSpeechFrames = 0;
  let open = false;
  let parts: Part[] = [];
  let utteranceFrames = 0;
  let speechFrames = 0;
  let silenceRun = 0;

  const toFrames = (ms: number): number => Math.round((ms * sampleRate) / 1000);

  const addToRing = (part: Part): void => {
    const count = (p: Part, n: number): void => {
      ringFrames += n;
      if (p.speech) ringSpeechFrames += n;
    };
    ring.push(part);
    count(part, frameCount(part.frame));
    while (ringFrames > preRollFrames) {
      const oldest = ring[0]!;
      const drop = Math.min(frameCount(oldest.frame), ringFrames - preRollFrames);
      if (drop === frameCount(oldest.frame)) ring.shift();
      else ring[0] = { frame: split(oldest.frame, drop)[1], speech: oldest.speech };
      count(oldest, -drop);
    }
  };

  const endUtterance = (emit: Emit<AudioFrame>): void => {
    if (speechFrames > 0 && speechFrames >= minSpeechFrames) {
      const samples = new Float32Array(utteranceFrames * channels);
      let offset = 0;
      for (const { frame } of parts) {
        samples.set(frame.samples, offset);
        offset += frame.samples.length;
      }
      const startPts = parts[0]!.frame.pts;
      const utterance: UtteranceMetadata = {
        startPts,
        endPts: startPts + (utteranceFrames / sampleRate) * MICROS_PER_SECOND,
        speechMs: (speechFrames / sampleRate) * 1000,
      };
      emit({ samples, sampleRate, channels, pts: startPts, metadata: { utterance } });
    } else {
      // Discarded audio is ordinary non-utterance audio again, so its end may serve as the next pre-roll.
      for (const part of parts) addToRing(part);
    }
    open = false;
    parts = [];
    utteranceFrames = 0;
    speechFrames = 0;
    silenceRun = 0;
  };

  const checkFormat = (frame: AudioFrame): void => {
    if (sampleRate === 0) {
      ({ sampleRate, channels } = frame);
      preRollFrames = toFrames(params.preRollMs);
      minSpeechFrames = toFrames(params.minSpeechMs);
      minSilenceFrames = toFrames(params.minSilenceMs);
      maxFrames = Math.max(1, toFrames(params.maxUtteranceMs));
      return;
    }
    if (frame.sampleRate !== sampleRate) {
      throw new InvalidInputError(NODE, 'sampleRate', `changed mid-stream from ${sampleRate} to ${frame.sampleRate} Hz; resample before this node`);
    }
    if (frame.channels !== channels) {
      throw new InvalidInputError(NODE, 'channels', `changed mid-stream from ${channels} to ${frame.channels}`);
    }
  };

  return {
    push(item, emit) {
      const frame = checkAudioFrame(item, NODE);
      const { isSpeech: speech } = readVad(frame, NODE);
      checkFormat(frame);
      let rest = frame;
      // Each pass consumes up to the next event (silence long enough, or the length cap), splitting the frame there.
      while (frameCount(rest) > 0) {
        if (!open) {
          if (!speech) {
            addToRing({ frame: rest, speech });
            return;
          }
          open = true;
          parts = ring;
          utteranceFrames = ringFrames;
          speechFrames = ringSpeechFrames;
          ring = [];
          ringFrames = 0;
          ringSpeechFrames = 0;
        }
        let take = Math.min(frameCount(rest), maxFrames - utteranceFrames);
        if (!speech) {
          if (silenceRun >= minSilenceFrames) {
            endUtterance(emit);
            continue;
          }
          take = Math.min(take, minSilenceFrames - silenceRun);
        }
        const [head, tail] = split(rest, take);
        parts.push({ frame: head, speech });
        utteranceFrames += take;
        if (speech) {
          speechFrames += take;
          silenceRun = 0;
        } else {
          silenceRun += take;
        }
        if (utteranceFrames >= maxFrames || (!speech && silenceRun >= minSilenceFrames)) endUtterance(emit);
        rest = tail;
      }
    },
    flush(emit) {
      if (open) endUtterance(emit);
    },
    close() {
      ring = [];
      parts = [];
    },
  };
}

/**
 * Collects speech into utterances: consumes AudioFrames annotated by any VAD (`metadata.vad.isSpeech`, as written by
 * `energyVad`) and emits ONE AudioFrame per utterance with `metadata.utterance = { startPts, endPts, speechMs }`
 * (see {@link UtteranceMetadata}; the input's other metadata is not carried over). All time comes from sample counts.
 *
 * - While idle, the last `preRollMs` of audio are kept in a ring (trimmed to the sample).
 * - A speech frame starts an utterance: pre-roll + that frame. Later frames are appended.
 * - The utterance ends once `minSilenceMs` of continuous non-speech audio has been appended; the frame is split
 *   there, so the trailing silence is exactly `minSilenceMs` and the rest of that frame starts the next pre-roll.
 *   Pre-roll never reaches back into an emitted utterance (the audio of a discarded one may become pre-roll).
 * - It is emitted only if its speech audio totals ≥ `minSpeechMs` (speech in the pre-roll counts: it can be there
 *   when a discarded utterance fell back into the ring); otherwise it is discarded (nothing emitted).
 * - At `maxUtteranceMs` (pre-roll included) it is cut and emitted (same `minSpeechMs` rule); if speech goes on, the
 *   next utterance starts at the cut, without pre-roll.
 * Memory: at most `maxUtteranceMs` of audio (the pre-roll ring moves into the utterance) plus one input frame.
 *
 * On complete: an open utterance with ≥ `minSpeechMs` of speech is emitted (trailing silence as far as it got), then
 * the output completes. On error: passes it on, buffered audio is dropped.
 * Errors: `INVALID_INPUT` for a non-AudioFrame, a frame without `metadata.vad` (field `metadata.vad`), or a change of
 * sampleRate/channels mid-stream; `INVALID_PARAMS` for bad params (e.g. `preRollMs` ≥ `maxUtteranceMs`).
 *
 * @param params - {@link VadTriggeredBufferParams}: `preRollMs` 1000, `minSpeechMs` 1000, `minSilenceMs` 500,
 *   `maxUtteranceMs` 10000 by default.
 * @example
 * ```ts
 * fromWavFile('speech.wav').pipe(energyVad(), vadTriggeredBuffer({ minSilenceMs: 300 }), speechToText());
 * ```
 */
export const vadTriggeredBuffer = defineNode(
  NODE,
  VadTriggeredBufferParamsSchema,
  (params) => coreOperator(NODE, () => createCore(params)),
  { description: 'Buffers VAD-annotated audio into one frame per utterance', input: 'audio', output: 'audio' },
);
