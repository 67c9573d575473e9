import fc from 'fast-check';
import { lastValueFrom, of, toArray } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { InvalidInputError, RemoteMediaError } from '../../../src/errors.js';
import type { AudioFrame } from '../../../src/media/audioFrame.js';
import type { NodeOperator } from '../../../src/node.js';
import { energyVad, type VadAnnotation } from '../../../src/operators/audio/energyVad.js';
import { readVad } from '../../../src/operators/audio/internal/vadInternals.js';
import { marbleTest } from '../../../src/testing/index.js';
import { invalidParamsField } from '../../helpers/common.js';

const assertEqual = (a: unknown, e: unknown): void => expect(a).toEqual(e);

/** A 1 kHz mono frame of `n` samples (n ms), all equal to `amp` (so its RMS is |amp|). */
function tone(amp: number, ptsMs: number, n = 10): AudioFrame {
  return { samples: new Float32Array(n).fill(amp), sampleRate: 1000, channels: 1, pts: ptsMs * 1000 };
}

function annotated(frame: AudioFrame, vad: VadAnnotation): AudioFrame {
  return { ...frame, metadata: { ...frame.metadata, vad } };
}

const SPEECH = { isSpeech: true, speechRatio: 1, avgEnergy: 0.5 };
const SILENCE = { isSpeech: false, speechRatio: 0, avgEnergy: 0 };

describe('energyVad node', () => {
  it('annotates each frame with metadata.vad (happy path)', () => {
    marbleTest(({ cold, expectObservable }) => {
      const a = tone(0.5, 0);
      const s = tone(0, 10);
      const b = tone(-0.5, 20);
      expectObservable(cold('-a-s-b|', { a, s, b }).pipe(energyVad({ frameMs: 10 }))).toBe('-x-y-z|', {
        x: annotated(a, SPEECH),
        y: annotated(s, SILENCE),
        z: annotated(b, SPEECH),
      });
    }, assertEqual);
  });

  it("mode 'filter' drops non-speech frames", () => {
    marbleTest(({ cold, expectObservable }) => {
      const a = tone(0.5, 0);
      const s = tone(0.01, 10);
      const b = tone(0.5, 20);
      expectObservable(cold('-a-s-b|', { a, s, b }).pipe(energyVad({ frameMs: 10, mode: 'filter' }))).toBe('-x---z|', {
        x: annotated(a, SPEECH),
        z: annotated(b, SPEECH),
      });
    }, assertEqual);
  });

  it('emits synchronously and completes with the source (x|)', () => {
    marbleTest(({ cold, expectObservable }) => {
      const a = tone(0.5, 0);
      expectObservable(cold('(a|)', { a }).pipe(energyVad({ frameMs: 10 }))).toBe('(x|)', { x: annotated(a, SPEECH) });
    }, assertEqual);
  });

  it('carries the open window across input frames', () => {
    // 20 ms windows over 10 ms frames: frame 1 is judged on its half window, frame 2 closes the window [0.5 × 10, 0 × 10].
    marbleTest(({ cold, expectObservable }) => {
      const frames = { a: tone(0.5, 0), b: tone(0, 10), c: tone(0, 20), d: tone(0, 30) };
      expectObservable(cold('abcd|', frames).pipe(energyVad({ frameMs: 20 }))).toBe('wxyz|', {
        w: annotated(frames.a, SPEECH),
        x: annotated(frames.b, { isSpeech: true, speechRatio: 1, avgEnergy: Math.sqrt(0.125) }),
        y: annotated(frames.c, SILENCE),
        z: annotated(frames.d, SILENCE),
      });
    }, assertEqual);
  });

  it('judges the windows that end inside a frame; isSpeech when at least half are speech', () => {
    // 10 ms windows, 15 ms frames: frame 1 ends one window (0.5) and opens one; frame 2 ends [0.5 × 5, 0 × 5] and [0 × 10].
    const a = tone(0.5, 0, 15);
    const b = tone(0, 15, 15);
    const c = tone(0, 30, 25);
    marbleTest(({ cold, expectObservable }) => {
      expectObservable(cold('abc|', { a, b, c }).pipe(energyVad({ frameMs: 10 }))).toBe('xyz|', {
        x: annotated(a, SPEECH),
        y: annotated(b, { isSpeech: true, speechRatio: 0.5, avgEnergy: Math.sqrt(0.125) / 2 }),
        z: annotated(c, { isSpeech: false, speechRatio: 0, avgEnergy: 0 }),
      });
    }, assertEqual);
  });

  it('threshold is an RMS level; channels are pooled', async () => {
    const quiet = tone(0.01, 0);
    const [lo] = await lastValueFrom(of(quiet).pipe(energyVad({ frameMs: 10 }), toArray()));
    expect(readVad(lo!).isSpeech).toBe(false);
    const [hi] = await lastValueFrom(of(quiet).pipe(energyVad({ frameMs: 10, threshold: 0.005 }), toArray()));
    expect(readVad(hi!)).toEqual({ isSpeech: true, speechRatio: 1, avgEnergy: expect.closeTo(0.01, 7) as number });
    const stereo: AudioFrame = { samples: Float32Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 0.5 : 0)), sampleRate: 1000, channels: 2, pts: 0 };
    const [st] = await lastValueFrom(of(stereo).pipe(energyVad({ frameMs: 10 }), toArray()));
    expect(readVad(st!).avgEnergy).toBeCloseTo(Math.sqrt(0.125), 7);
  });

  it('keeps samples (shared), pts and other metadata; accepts plain frames without pts', async () => {
    const input: AudioFrame = { ...tone(0.5, 7), metadata: { source: 'mic' } };
    const [out] = await lastValueFrom(of(input).pipe(energyVad({ frameMs: 10 }), toArray()));
    expect(out).not.toBe(input);
    expect(out!.samples).toBe(input.samples);
    expect(out!.metadata).toEqual({ source: 'mic', vad: SPEECH });
    expect(input.metadata).toEqual({ source: 'mic' });
    const plain = { samples: new Float32Array(10), sampleRate: 1000, channels: 1 } as unknown as AudioFrame;
    const [p] = await lastValueFrom(of(plain).pipe(energyVad(), toArray()));
    expect(p!.pts).toBe(0);
  });

  it('passes errors through (#)', () => {
    marbleTest(({ cold, expectObservable }) => {
      const a = tone(0.5, 0);
      const error = new RemoteMediaError('IO', 'disk gone');
      expectObservable(cold('-a-#', { a }, error).pipe(energyVad({ frameMs: 10 }))).toBe('-x-#', { x: annotated(a, SPEECH) }, error);
    }, assertEqual);
  });

  it('unsubscribes from the source on early unsubscribe', () => {
    marbleTest(({ cold, expectObservable, expectSubscriptions }) => {
      const a = tone(0.5, 0);
      const source = cold('-a-a-a-|', { a });
      expectObservable(source.pipe(energyVad({ frameMs: 10 })), '^--!').toBe('-x--', { x: annotated(a, SPEECH) });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    }, assertEqual);
  });

  it('rejects bad params with InvalidParamsError naming the field', () => {
    expect(invalidParamsField(() => energyVad({ frameMs: 0 }))).toBe('frameMs');
    expect(invalidParamsField(() => energyVad({ threshold: -0.1 }))).toBe('threshold');
    expect(invalidParamsField(() => energyVad({ mode: 'drop' as 'filter' }))).toBe('mode');
    expect(energyVad().spec).toEqual({ type: 'audio.energyVad', params: { frameMs: 30, threshold: 0.02, mode: 'annotate' } });
  });

  it('rejects an item that is not an AudioFrame with INVALID_INPUT naming the field', async () => {
    const bad = { samples: [0, 1], sampleRate: 1000, channels: 1, pts: 0 } as unknown as AudioFrame;
    const error = await lastValueFrom(of(bad).pipe(energyVad())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', field: 'samples', node: 'audio.energyVad' });
  });

  it('has AudioFrame in and out', () => {
    expectTypeOf(energyVad()).toEqualTypeOf<NodeOperator<AudioFrame, AudioFrame>>();
  });

  it('property: annotate passes every frame unchanged; filter = annotate keeping isSpeech', async () => {
    const frameArb = fc.record({
      n: fc.integer({ min: 0, max: 40 }),
      amp: fc.constantFrom(0, 0.01, 0.03, 0.5),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { maxLength: 20 }), fc.integer({ min: 1, max: 50 }), async (specs, frameMs) => {
        let pts = 0;
        const frames = specs.map(({ n, amp }) => {
          const f = tone(amp, pts, n);
          pts += n;
          return f;
        });
        const annotatedOut = await lastValueFrom(of(...frames).pipe(energyVad({ frameMs }), toArray()));
        expect(annotatedOut.map(({ metadata: _, ...rest }) => rest)).toEqual(frames);
        annotatedOut.forEach((f, i) => expect(f.samples).toBe(frames[i]!.samples));
        const filtered = await lastValueFrom(of(...frames).pipe(energyVad({ frameMs, mode: 'filter' }), toArray()));
        expect(filtered).toEqual(annotatedOut.filter((f) => readVad(f).isSpeech));
        for (const f of annotatedOut) {
          const { speechRatio, avgEnergy } = readVad(f);
          expect(speechRatio).toBeGreaterThanOrEqual(0);
          expect(speechRatio).toBeLessThanOrEqual(1);
          expect(avgEnergy).toBeLessThanOrEqual(0.5 + 1e-9);
        }
      }),
      { numRuns: 100 },
    );
  });
});
