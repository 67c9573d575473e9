import libsamplerate from '@alexanderolsen/libsamplerate-js';
import fc from 'fast-check';
import { from, lastValueFrom, map, Subject, toArray } from 'rxjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidInputError, InvalidParamsError } from '../../../src/errors.js';
import { fromSpec } from '../../../src/node.js';
import type { AudioFrame } from '../../../src/media/audioFrame.js';
import { resample, type ResampleParams } from '../../../src/operators/audio/resample.js';
import { marbleTest } from '../../../src/testing/index.js';
import { concatSamples } from '../../helpers/common.js';

const assertEqual = (a: unknown, e: unknown): void => expect(a).toEqual(e);

/** A 440 Hz sine (amplitude 0.5) slice: `frames` frames starting at frame `start`, pts from the frame index. */
function sine(start: number, frames: number, sampleRate = 48000, channels = 1, hz = 440): AudioFrame {
  const samples = new Float32Array(frames * channels);
  for (let f = 0; f < frames; f++) samples.fill(0.5 * Math.sin((2 * Math.PI * hz * (start + f)) / sampleRate), f * channels, (f + 1) * channels);
  return { samples, sampleRate, channels, pts: (start * 1e6) / sampleRate };
}

function chunked(totalFrames: number, chunk: number, sampleRate = 48000, channels = 1): AudioFrame[] {
  const frames: AudioFrame[] = [];
  for (let at = 0; at < totalFrames; at += chunk) frames.push(sine(at, Math.min(chunk, totalFrames - at), sampleRate, channels));
  return frames;
}

function run(frames: readonly AudioFrame[], params: ResampleParams): Promise<AudioFrame[]> {
  return lastValueFrom(from(frames).pipe(resample(params), toArray()));
}


const shape = (f: AudioFrame): { frames: number; pts: number; sampleRate: number; channels: number } =>
  ({ frames: f.samples.length / f.channels, pts: f.pts, sampleRate: f.sampleRate, channels: f.channels });

let destroy: ReturnType<typeof vi.spyOn>;
beforeAll(async () => {
  const probe = await libsamplerate.create(1, 8000, 16000);
  destroy = vi.spyOn(Object.getPrototypeOf(probe) as { destroy(): void }, 'destroy');
  probe.destroy();
});
afterEach(() => destroy.mockClear());

describe('resample node', () => {
  it('converts each frame to the output rate with pts from output sample counts', () =>
    marbleTest(({ cold, expectObservable }) => {
      const [a, b, c] = chunked(2880, 960) as [AudioFrame, AudioFrame, AudioFrame];
      const out$ = cold('-a-b-c-|', { a, b, c }).pipe(resample({ rate: 16000, quality: 'linear' }), map(shape));
      expectObservable(out$).toBe('-x-y-z-|', {
        x: { frames: 320, pts: 0, sampleRate: 16000, channels: 1 },
        y: { frames: 320, pts: 20_000, sampleRate: 16000, channels: 1 },
        z: { frames: 320, pts: 40_000, sampleRate: 16000, channels: 1 },
      });
    }, assertEqual));

  it('emits the converter tail on complete, completing the expected length', () =>
    marbleTest(({ cold, expectObservable }) => {
      const a = sine(0, 960);
      // The medium sinc converter holds 46 output frames (2.9 ms) back until more input, or the flush, arrives.
      const out$ = cold('-a-|', { a }).pipe(resample({ rate: 16000 }), map(shape));
      expectObservable(out$).toBe('-x-(y|)', {
        x: { frames: 274, pts: 0, sampleRate: 16000, channels: 1 },
        y: { frames: 46, pts: 17_125, sampleRate: 16000, channels: 1 },
      });
    }, assertEqual));

  it('forwards an error, drops the tail and frees the converter', () => {
    marbleTest(({ cold, expectObservable }) => {
      const a = sine(0, 960);
      const out$ = cold('-a-#', { a }, new Error('boom')).pipe(resample({ rate: 16000 }), map(shape));
      expectObservable(out$).toBe('-x-#', { x: { frames: 274, pts: 0, sampleRate: 16000, channels: 1 } }, new Error('boom'));
    }, assertEqual);
    expect(destroy).toHaveBeenCalledTimes(1);
  });

  it('releases the source and frees the converter on early unsubscribe', () => {
    marbleTest(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b, c] = chunked(2880, 960) as [AudioFrame, AudioFrame, AudioFrame];
      const source = cold('-a-b-c-|', { a, b, c });
      const out$ = source.pipe(resample({ rate: 16000, quality: 'linear' }), map((f) => f.samples.length));
      expectObservable(out$, '----!').toBe('-x-x', { x: 320 });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    }, assertEqual);
    expect(destroy).toHaveBeenCalledTimes(1);
  });

  it('frees the converter on complete', async () => {
    await run(chunked(960, 480), { rate: 16000 });
    expect(destroy).toHaveBeenCalledTimes(1);
  });

  it('passes frames already at the output rate through unchanged, without a converter', () =>
    marbleTest(({ cold, expectObservable }) => {
      const [a, b] = chunked(320, 160, 16000) as [AudioFrame, AudioFrame];
      expectObservable(cold('-a-b|', { a, b }).pipe(resample({ rate: 16000 }))).toBe('-a-b|', { a, b });
      expect(destroy).not.toHaveBeenCalled();
    }, assertEqual));

  it('keeps a 440 Hz sine at 440 Hz, its amplitude and its timing (48 kHz → 16 kHz)', async () => {
    const out = await run(chunked(48000, 480), { rate: 16000 });
    const samples = concatSamples(out);
    expect(samples.length).toBe(16000);
    // Skip 50 ms at each end, where the signal starts and stops abruptly.
    const middle = samples.subarray(800, 15200);
    let crossings = 0;
    for (let i = 1; i < middle.length; i++) if (Math.sign(middle[i]!) !== Math.sign(middle[i - 1]!)) crossings++;
    expect(Math.abs(crossings - 2 * 440 * 0.9)).toBeLessThanOrEqual(2);
    const rms = Math.sqrt(middle.reduce((s, x) => s + x * x, 0) / middle.length);
    expect(Math.abs(rms / (0.5 / Math.SQRT2) - 1)).toBeLessThan(0.05);
    // Output sample n is the input signal at n / 16000 s: no latency offset hidden in the pts.
    let worst = 0;
    for (let n = 800; n < 15200; n++) worst = Math.max(worst, Math.abs(samples[n]! - 0.5 * Math.sin((2 * Math.PI * 440 * n) / 16000)));
    expect(worst).toBeLessThan(0.01);
  });

  it('keeps pts contiguous across frames and copies input metadata onto the output', async () => {
    const inputs = chunked(4410, 441, 44100, 2).map((f, i) => ({ ...f, metadata: { index: i } }));
    const out = await run(inputs, { rate: 48000 });
    for (let i = 1; i < out.length; i++) expect(out[i]!.pts).toBeCloseTo(out[i - 1]!.pts + (out[i - 1]!.samples.length / 2 / 48000) * 1e6, 6);
    expect(out[0]!.metadata).toEqual({ index: 0 });
    expect(out.every((f) => f.channels === 2 && f.sampleRate === 48000)).toBe(true);
  });

  it('flushes the old converter tail before starting a new one when the input format changes', async () => {
    const first = chunked(4410, 441, 44100, 2);
    const second = chunked(960, 480, 48000, 1).map((f) => ({ ...f, pts: 500_000 + f.pts }));
    const out = await run([...first, ...second], { rate: 16000 });
    const stereo = out.filter((f) => f.channels === 2);
    const mono = out.filter((f) => f.channels === 1);
    expect(out.slice(0, stereo.length)).toEqual(stereo);
    expect(concatSamples(stereo).length / 2).toBe(1600);
    expect(concatSamples(mono).length).toBe(320);
    expect(mono[0]!.pts).toBe(500_000);
    expect(destroy).toHaveBeenCalledTimes(2);
  });

  it('gives concurrent subscriptions independent converters (more than the idle pool holds)', async () => {
    const streams = [
      chunked(4800, 480, 48000),
      chunked(4410, 441, 44100, 2),
      chunked(2205, 220, 22050),
      chunked(800, 80, 8000, 2),
      chunked(4800, 480, 48000, 2),
      chunked(4410, 441, 44100),
    ];
    const alone: AudioFrame[][] = [];
    for (const frames of streams) alone.push(await run(frames, { rate: 16000 }));
    const inputs = streams.map(() => new Subject<AudioFrame>());
    const outputs = inputs.map((input) => lastValueFrom(input.pipe(resample({ rate: 16000 }), toArray())));
    const longest = Math.max(...streams.map((frames) => frames.length));
    for (let i = 0; i < longest; i++) {
      streams.forEach((frames, s) => {
        const frame = frames[i];
        if (frame) inputs[s]!.next(frame);
      });
    }
    inputs.forEach((input) => input.complete());
    expect(await Promise.all(outputs)).toEqual(alone);
  });

  it('converts a frame larger than the converter transfer buffer like the same audio in small chunks', async () => {
    const whole = await run([sine(0, 200_000, 8000)], { rate: 48000, quality: 'linear' });
    const pieces = await run(chunked(200_000, 4000, 8000), { rate: 48000, quality: 'linear' });
    const [a, b] = [concatSamples(whole), concatSamples(pieces)];
    expect(a.length).toBe(b.length);
    expect(Math.abs(a.length - 1_200_000)).toBeLessThanOrEqual(1);
    expect(a.findIndex((x, i) => x !== b[i])).toBe(-1);
  });

  it('rebuilds from its spec with the default quality filled in', () => {
    const node = resample({ rate: 16000 });
    expect(node.spec).toEqual({ type: 'audio.resample', params: { rate: 16000, quality: 'medium' } });
    expect(fromSpec(node.spec).spec).toEqual(node.spec);
  });

  it.each(['best', 'medium', 'fastest', 'zero-order-hold', 'linear'] as const)("with quality '%s' outputs round(in × out / in) frames", async (quality) => {
    const out = await run(chunked(4410, 1000, 44100), { rate: 48000, quality });
    expect(Math.abs(concatSamples(out).length - 4800)).toBeLessThanOrEqual(1);
  });

  it('property: after flush, output length is within 2 frames of inputFrames × out / in', async () => {
    const rates = [8000, 16000, 22050, 44100, 48000];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...rates),
        fc.constantFrom(...rates),
        fc.integer({ min: 1, max: 2 }),
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 12 }),
        fc.constantFrom('best', 'medium', 'fastest', 'zero-order-hold', 'linear' as const),
        async (inRate, outRate, channels, chunks, quality) => {
          let at = 0;
          const inputs = chunks.map((n) => {
            const f = sine(at, n, inRate, channels);
            at += n;
            return f;
          });
          const out = await run(inputs, { rate: outRate, quality });
          expect(Math.abs(concatSamples(out).length / channels - (at * outRate) / inRate)).toBeLessThanOrEqual(2);
        },
      ),
      { numRuns: 60 },
    );
  });

  it.each([
    [{ rate: 0 }, 'rate'],
    [{ rate: 1.5 }, 'rate'],
    [{ rate: 200_000 }, 'rate'],
    [{}, 'rate'],
    [{ rate: 16000, quality: 'ultra' }, 'quality'],
  ])('rejects params %j naming field %s', (params, field) => {
    expect(() => resample(params as never)).toThrow(InvalidParamsError);
    expect(() => resample(params as never)).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS', field, node: 'audio.resample' }));
  });

  it.each([
    [{ samples: [1, 2], sampleRate: 16000, channels: 1, pts: 0 }, 'samples'],
    [{ samples: new Float32Array(2), sampleRate: 384_000, channels: 1, pts: 0 }, 'sampleRate'],
    [{ samples: new Float32Array(2), sampleRate: 10, channels: 1, pts: 0 }, 'sampleRate'],
    [{ samples: new Float32Array(200), sampleRate: 48000, channels: 200, pts: 0 }, 'channels'],
  ])('rejects input %# naming field %s', async (input, field) => {
    const error: unknown = await run([input as unknown as AudioFrame], { rate: 16000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', field, node: 'audio.resample' });
  });
});
