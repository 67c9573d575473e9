import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { lastValueFrom, of, toArray } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { InvalidInputError, RemoteMediaError } from '../../../src/errors.js';
import type { AudioFrame } from '../../../src/media/audioFrame.js';
import { fromWavFile } from '../../../src/media/wav.js';
import type { NodeOperator } from '../../../src/node.js';
import { energyVad } from '../../../src/operators/audio/energyVad.js';
import { vadTriggeredBuffer, type UtteranceMetadata } from '../../../src/operators/audio/vadTriggeredBuffer.js';
import { marbleTest } from '../../../src/testing/index.js';
import { invalidParamsField } from '../../helpers/common.js';

const NODE = 'audio.vadTriggeredBuffer';
const assertEqual = (a: unknown, e: unknown): void => expect(a).toEqual(e);

/**
 * 1 kHz mono frames annotated by hand: frame i covers samples [start, start + n) and every sample's value is its own
 * index in the stream, so an utterance's samples show exactly which input audio it holds.
 */
function annotatedFrame(start: number, n: number, isSpeech: boolean): AudioFrame {
  return {
    samples: Float32Array.from({ length: n }, (_, k) => start + k),
    sampleRate: 1000,
    channels: 1,
    pts: start * 1000,
    metadata: { vad: { isSpeech, speechRatio: isSpeech ? 1 : 0, avgEnergy: isSpeech ? 0.5 : 0 } },
  };
}

/** Values a, b, c, ... for a pattern of 10 ms frames: 'S' speech, 's' silence. */
function frames(pattern: string): Record<string, AudioFrame> {
  return Object.fromEntries([...pattern].map((c, i) => [String.fromCharCode(97 + i), annotatedFrame(i * 10, 10, c === 'S')]));
}

/** The utterance frame expected for samples [start, start + length) holding `speechMs` of speech. */
function utterance(start: number, length: number, speechMs: number): AudioFrame {
  const meta: UtteranceMetadata = { startPts: start * 1000, endPts: (start + length) * 1000, speechMs };
  return { samples: Float32Array.from({ length }, (_, k) => start + k), sampleRate: 1000, channels: 1, pts: start * 1000, metadata: { utterance: meta } };
}

const P = { preRollMs: 20, minSpeechMs: 20, minSilenceMs: 20, maxUtteranceMs: 100 };

describe('vadTriggeredBuffer node', () => {
  it('emits pre-roll + speech + trailing silence once the silence is long enough (happy path)', () => {
    marbleTest(({ cold, expectObservable }) => {
      expectObservable(cold('abcdefgh|', frames('sssSSsss')).pipe(vadTriggeredBuffer(P))).toBe('------x-|', {
        x: utterance(10, 60, 20),
      });
    }, assertEqual);
  });

  it('emits the open utterance on complete (x|)', () => {
    marbleTest(({ cold, expectObservable }) => {
      expectObservable(cold('abc|', frames('sSS')).pipe(vadTriggeredBuffer(P))).toBe('---(x|)', { x: utterance(0, 30, 20) });
    }, assertEqual);
  });

  it('discards utterances with less than minSpeechMs of speech, also on complete; their audio may become pre-roll', () => {
    marbleTest(({ cold, expectObservable }) => {
      expectObservable(cold('abcdefgh|', frames('sSssSSss')).pipe(vadTriggeredBuffer(P))).toBe('-------x|', {
        x: utterance(20, 60, 20),
      });
      expectObservable(cold('ab|', frames('sS')).pipe(vadTriggeredBuffer(P))).toBe('--|');
    }, assertEqual);
  });

  it('cuts at maxUtteranceMs (pre-roll included); continuing speech starts the next utterance without pre-roll', () => {
    marbleTest(({ cold, expectObservable }) => {
      const params = { ...P, maxUtteranceMs: 50 };
      expectObservable(cold('abcdefghij|', frames('ssSSSSSSss')).pipe(vadTriggeredBuffer(params))).toBe('----x----y|', {
        x: utterance(0, 50, 30),
        y: utterance(50, 50, 30),
      });
      // A cut inside a frame splits it at the sample.
      expectObservable(cold('abcde|', frames('SSSSS')).pipe(vadTriggeredBuffer({ ...params, maxUtteranceMs: 35, minSpeechMs: 10 }))).toBe('---x-(y|)', {
        x: utterance(0, 35, 35),
        y: utterance(35, 15, 15),
      });
    }, assertEqual);
  });

  it('splits the frame where minSilenceMs is reached; the rest of it starts the next pre-roll', () => {
    marbleTest(({ cold, expectObservable }) => {
      expectObservable(cold('abcdefgh|', frames('SSssSSss')).pipe(vadTriggeredBuffer({ ...P, minSilenceMs: 15 }))).toBe('---x---y|', {
        x: utterance(0, 35, 20),
        y: utterance(35, 40, 20),
      });
    }, assertEqual);
  });

  it('keeps exactly preRollMs of audio before speech, trimmed to the sample', () => {
    marbleTest(({ cold, expectObservable }) => {
      const input = frames('sssssS');
      const opts = { ...P, minSpeechMs: 10 };
      expectObservable(cold('abcdef|', input).pipe(vadTriggeredBuffer({ ...opts, preRollMs: 25 }))).toBe('------(x|)', { x: utterance(25, 35, 10) });
      expectObservable(cold('abcdef|', input).pipe(vadTriggeredBuffer({ ...opts, preRollMs: 30 }))).toBe('------(x|)', { x: utterance(20, 40, 10) });
      expectObservable(cold('abcdef|', input).pipe(vadTriggeredBuffer({ ...opts, preRollMs: 0 }))).toBe('------(x|)', { x: utterance(50, 10, 10) });
    }, assertEqual);
  });

  it('passes errors through and drops what it holds (#)', () => {
    marbleTest(({ cold, expectObservable }) => {
      const error = new RemoteMediaError('IO', 'mic unplugged');
      expectObservable(cold('abc#', frames('sSS'), error).pipe(vadTriggeredBuffer(P))).toBe('---#', undefined, error);
    }, assertEqual);
  });

  it('unsubscribes from the source on early unsubscribe', () => {
    marbleTest(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c-d-e-|', frames('sSSSS'));
      expectObservable(source.pipe(vadTriggeredBuffer(P)), '^----!').toBe('------');
      expectSubscriptions(source.subscriptions).toBe('^----!');
    }, assertEqual);
  });

  it('rejects bad params with InvalidParamsError naming the field', () => {
    expect(invalidParamsField(() => vadTriggeredBuffer({ preRollMs: -1 }))).toBe('preRollMs');
    expect(invalidParamsField(() => vadTriggeredBuffer({ maxUtteranceMs: 0 }))).toBe('maxUtteranceMs');
    expect(invalidParamsField(() => vadTriggeredBuffer({ minSilenceMs: Number.NaN }))).toBe('minSilenceMs');
    expect(invalidParamsField(() => vadTriggeredBuffer({ preRollMs: 500, maxUtteranceMs: 500, minSpeechMs: 100 }))).toBe('preRollMs');
    expect(invalidParamsField(() => vadTriggeredBuffer({ minSpeechMs: 2000, maxUtteranceMs: 1500 }))).toBe('minSpeechMs');
    expect(vadTriggeredBuffer().spec).toEqual({
      type: NODE,
      params: { preRollMs: 1000, minSpeechMs: 1000, minSilenceMs: 500, maxUtteranceMs: 10000 },
    });
  });

  it('rejects frames without metadata.vad, non-frames and format changes with InvalidInputError', () => {
    marbleTest(({ cold, expectObservable }) => {
      const a = frames('s')['a']!;
      const bare: AudioFrame = { ...a, metadata: { other: 1 } };
      expectObservable(cold('ab|', { a, b: bare }).pipe(vadTriggeredBuffer(P))).toBe('-#', undefined,
        new InvalidInputError(NODE, 'metadata.vad', 'missing: put a VAD (e.g. energyVad()) before this node'));
      const odd: AudioFrame = { ...a, metadata: { vad: { isSpeech: 'yes' } } };
      expectObservable(cold('a|', { a: odd }).pipe(vadTriggeredBuffer(P))).toBe('#', undefined,
        new InvalidInputError(NODE, 'metadata.vad', 'isSpeech must be a boolean, got string'));
      const resampled: AudioFrame = { ...a, sampleRate: 2000 };
      expectObservable(cold('ab|', { a, b: resampled }).pipe(vadTriggeredBuffer(P))).toBe('-#', undefined,
        new InvalidInputError(NODE, 'sampleRate', 'changed mid-stream from 1000 to 2000 Hz; resample before this node'));
      expectObservable(cold('a|', { a: 'text' as unknown as AudioFrame }).pipe(vadTriggeredBuffer(P))).toBe('#', undefined,
        new InvalidInputError(NODE, '', "expected an AudioFrame { samples, sampleRate, channels, pts }, got 'text'"));
    }, assertEqual);
  });

  it('has AudioFrame in and out, and works behind energyVad', async () => {
    expectTypeOf(vadTriggeredBuffer()).toEqualTypeOf<NodeOperator<AudioFrame, AudioFrame>>();
    const tone = (amp: number, i: number): AudioFrame => ({ samples: new Float32Array(10).fill(amp), sampleRate: 1000, channels: 1, pts: i * 10_000 });
    const input = [0, 0, 0.5, 0.5, 0.5, 0, 0, 0, 0].map(tone);
    const out = await lastValueFrom(of(...input).pipe(energyVad({ frameMs: 10 }), vadTriggeredBuffer(P), toArray()));
    expect(out.map((f) => f.metadata)).toEqual([{ utterance: { startPts: 0, endPts: 70_000, speechMs: 30 } }]);
    expect(Array.from(out[0]!.samples)).toEqual([...Array<number>(20).fill(0), ...Array<number>(30).fill(0.5), ...Array<number>(20).fill(0)]);
  });

  it('real data: assets/sample-speech.wav gives one utterance per sentence', async () => {
    const truth = JSON.parse(readFileSync('assets/sample-speech.json', 'utf8')) as { durationMs: number; sentences: Array<{ startMs: number; endMs: number }> };
    const out = await lastValueFrom(fromWavFile('assets/sample-speech.wav').pipe(energyVad(), vadTriggeredBuffer(), toArray()));
    expect(out.length).toBe(3);
    out.forEach((u, i) => {
      const { startPts, endPts, speechMs } = u.metadata!['utterance'] as UtteranceMetadata;
      const s = truth.sentences[i]!;
      // Defaults: 1000 ms pre-roll before the speech onset, 500 ms trailing silence (cut short by the end of the file).
      expect(Math.abs(startPts / 1000 - Math.max(0, s.startMs - 1000))).toBeLessThanOrEqual(60);
      expect(Math.abs(endPts / 1000 - Math.min(s.endMs + 500, truth.durationMs))).toBeLessThanOrEqual(60);
      expect(speechMs).toBeGreaterThanOrEqual(1000);
      expect(u.samples.length).toBe(Math.round(((endPts - startPts) * 16000) / 1e6));
    });
  });

  it('property: utterances are ordered, non-overlapping slices of the input; speechMs counts their speech', async () => {
    const arb = fc.record({
      parts: fc.array(fc.record({ n: fc.integer({ min: 0, max: 30 }), speech: fc.boolean() }), { maxLength: 40 }),
      preRollMs: fc.integer({ min: 0, max: 50 }),
      minSpeechMs: fc.integer({ min: 0, max: 50 }),
      minSilenceMs: fc.integer({ min: 0, max: 50 }),
      maxUtteranceMs: fc.integer({ min: 60, max: 200 }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ parts, ...params }) => {
        const speechAt: boolean[] = [];
        const input = parts.map(({ n, speech }) => {
          const f = annotatedFrame(speechAt.length, n, speech);
          for (let k = 0; k < n; k++) speechAt.push(speech);
          return f;
        });
        const out = await lastValueFrom(of(...input).pipe(vadTriggeredBuffer(params), toArray()));
        let previousEnd = 0;
        const covered = new Array<boolean>(speechAt.length).fill(false);
        for (const u of out) {
          const { startPts, endPts, speechMs } = u.metadata!['utterance'] as UtteranceMetadata;
          const start = startPts / 1000;
          expect(start).toBeGreaterThanOrEqual(previousEnd);
          expect(endPts / 1000 - start).toBe(u.samples.length);
          expect(u.samples.length).toBeLessThanOrEqual(params.maxUtteranceMs);
          expect(Array.from(u.samples)).toEqual(Array.from({ length: u.samples.length }, (_, k) => start + k));
          expect(speechMs).toBe(speechAt.slice(start, start + u.samples.length).filter(Boolean).length);
          expect(speechMs).toBeGreaterThanOrEqual(Math.max(1, params.minSpeechMs));
          for (let k = start; k < endPts / 1000; k++) covered[k] = true;
          previousEnd = endPts / 1000;
        }
        // With no minimum, nothing is discarded: every speech sample ends up in some utterance.
        if (params.minSpeechMs === 0) speechAt.forEach((speech, k) => speech && expect(covered[k]).toBe(true));
      }),
      { numRuns: 200 },
    );
  });
});
