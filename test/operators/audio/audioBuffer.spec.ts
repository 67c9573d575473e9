import fc from 'fast-check';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, InvalidParamsError } from '../../../src/errors.js';
import type { AudioFrame } from '../../../src/media/audioFrame.js';
import { audioBuffer } from '../../../src/operators/audio/audioBuffer.js';
import { marbleTest } from '../../../src/testing/index.js';
import { concatSamples } from '../../helpers/common.js';

const assertEqual = (a: unknown, e: unknown): void => expect(a).toEqual(e);

/** A frame of `frames` frames whose samples count up from `start` (so concatenations are easy to check). */
function ramp(frames: number, start: number, pts: number, sampleRate = 16000, channels = 1): AudioFrame {
  return { samples: Float32Array.from({ length: frames * channels }, (_, i) => (start + i) / 1e6), sampleRate, channels, pts };
}

function run(frames: readonly AudioFrame[], samples: number): Promise<AudioFrame[]> {
  return lastValueFrom(from(frames).pipe(audioBuffer({ samples }), toArray()));
}


describe('audioBuffer node', () => {
  it('joins 512 + 512 frames into one 1024-frame block', () =>
    marbleTest(({ cold, expectObservable }) => {
      const a = ramp(512, 0, 0);
      const b = ramp(512, 512, 32_000);
      const x = { samples: concatSamples([a, b]), sampleRate: 16000, channels: 1, pts: 0 };
      expectObservable(cold('-a-b-|', { a, b }).pipe(audioBuffer({ samples: 1024 }))).toBe('---x-|', { x });
    }, assertEqual));

  it('splits 1224 frames into a 1024-frame block and emits the 200-frame remainder on complete', () =>
    marbleTest(({ cold, expectObservable }) => {
      const a = ramp(1224, 0, 1_000_000);
      const x = { samples: a.samples.slice(0, 1024), sampleRate: 16000, channels: 1, pts: 1_000_000 };
      const y = { samples: a.samples.slice(1024), sampleRate: 16000, channels: 1, pts: 1_000_000 + (1024 / 16000) * 1e6 };
      expectObservable(cold('-a-|', { a }).pipe(audioBuffer({ samples: 1024 }))).toBe('-x-(y|)', { x, y });
    }, assertEqual));

  it('forwards an error and drops the partial block', () =>
    marbleTest(({ cold, expectObservable }) => {
      const a = ramp(300, 0, 0);
      expectObservable(cold('-a-#', { a }, new Error('boom')).pipe(audioBuffer({ samples: 1024 }))).toBe('---#', undefined, new Error('boom'));
    }, assertEqual));

  it('releases the source on early unsubscribe', () =>
    marbleTest(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b, c] = [ramp(2, 0, 0), ramp(2, 2, 125), ramp(2, 4, 250)];
      const source = cold('-a-b-c-|', { a, b, c });
      const x = { samples: concatSamples([a, b]), sampleRate: 16000, channels: 1, pts: 0 };
      expectObservable(source.pipe(audioBuffer({ samples: 4 })), '-----!').toBe('---x-', { x });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    }, assertEqual));

  it('stamps each block with the pts of its first sample', async () => {
    // 300 frames at 16 kHz last 18 750 µs; the second block starts 100 frames (6 250 µs) into the second input.
    const blocks = await run([ramp(300, 0, 0), ramp(300, 300, 18_750)], 400);
    expect(blocks.map((b) => [b.pts, b.samples.length])).toEqual([[0, 400], [25_000, 200]]);
  });

  it('follows the pts of the input holding the first sample, not a running count', async () => {
    const blocks = await run([ramp(100, 0, 0), ramp(100, 100, 500_000)], 50);
    expect(blocks.map((b) => b.pts)).toEqual([0, 3125, 500_000, 503_125]);
  });

  it('keeps interleaved channels together', async () => {
    const stereo = ramp(3, 0, 0, 8000, 2);
    const blocks = await run([stereo, ramp(3, 6, 375, 8000, 2)], 4);
    expect(blocks.map((b) => [b.channels, b.samples.length / b.channels])).toEqual([[2, 4], [2, 2]]);
    expect(Array.from(blocks[0]!.samples)).toEqual(Array.from(concatSamples([stereo, ramp(1, 6, 0, 8000, 2)])));
  });

  it('flushes the pending block when sampleRate or channels change', async () => {
    const blocks = await run([ramp(300, 0, 0, 16000), ramp(100, 0, 0, 8000), ramp(100, 0, 12_500, 8000, 2)], 1024);
    expect(blocks.map((b) => [b.sampleRate, b.channels, b.samples.length])).toEqual([[16000, 1, 300], [8000, 1, 100], [8000, 2, 200]]);
  });

  it('does not carry input metadata', async () => {
    const [block] = await run([{ ...ramp(4, 0, 0), metadata: { vad: true } }], 4);
    expect(block).not.toHaveProperty('metadata');
  });

  it('accepts a plain frame without pts (pts 0)', async () => {
    const { pts: _pts, ...noPts } = ramp(4, 0, 0);
    const [block] = await lastValueFrom(from([noPts as AudioFrame]).pipe(audioBuffer({ samples: 4 }), toArray()));
    expect(block!.pts).toBe(0);
  });

  it('defaults to 1024-frame blocks', async () => {
    const blocks = await lastValueFrom(from([ramp(2048, 0, 0)]).pipe(audioBuffer(), toArray()));
    expect(blocks.map((b) => b.samples.length)).toEqual([1024, 1024]);
    expect(audioBuffer().spec).toEqual({ type: 'audio.audioBuffer', params: { samples: 1024 } });
  });

  it.each([0, -1, 1.5, 'x', 5_000_000])('rejects samples = %s naming the field', (samples) => {
    expect(() => audioBuffer({ samples } as never)).toThrow(InvalidParamsError);
    expect(() => audioBuffer({ samples } as never)).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS', field: 'samples', node: 'audio.audioBuffer' }));
  });

  it('rejects an item whose samples are not a Float32Array', async () => {
    const bad = { samples: [1, 2], sampleRate: 16000, channels: 1, pts: 0 } as unknown as AudioFrame;
    const error: unknown = await run([bad], 4).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', field: 'samples', node: 'audio.audioBuffer' });
  });

  it('issue #11: a block of samples × channels over 2^24 floats is refused before it is allocated (N ok, N+1 refused)', async () => {
    const frame = (channels: number): AudioFrame => ({ samples: new Float32Array(channels), sampleRate: 16000, channels, pts: 0 });
    // 2^22 frames × 4 channels = 2^24 floats: allocated (64 MiB), flushed on complete as a one-frame remainder.
    expect((await run([frame(4)], 4_194_304))[0]!.samples).toHaveLength(4);
    const error: unknown = await run([frame(5)], 4_194_304).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', field: 'channels', node: 'audio.audioBuffer', message: expect.stringContaining('exceed the largest block (16777216 floats)') });
  });

  it('copies linearly: 100 000 one-frame inputs into one block stay fast', async () => {
    const frames = Array.from({ length: 100_000 }, (_, i) => ramp(1, i, i * 62.5));
    const started = performance.now();
    const blocks = await run(frames, 100_000);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]!.samples[99_999]).toBe(Math.fround(99_999 / 1e6));
  });

  it('property: output samples are the input samples, in full blocks except the last of each format run', async () => {
    const formats = [
      { sampleRate: 16000, channels: 1 },
      { sampleRate: 16000, channels: 2 },
      { sampleRate: 48000, channels: 1 },
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ format: fc.integer({ min: 0, max: 2 }), frames: fc.integer({ min: 0, max: 700 }) }), { maxLength: 25 }),
        fc.integer({ min: 1, max: 600 }),
        async (chunks, samples) => {
          let counter = 0;
          const inputs = chunks.map(({ format, frames }) => {
            const { sampleRate, channels } = formats[format]!;
            const frame = ramp(frames, counter, 0, sampleRate, channels);
            counter += frames * channels;
            return frame;
          });
          const blocks = await run(inputs, samples);
          expect(concatSamples(blocks)).toEqual(concatSamples(inputs));
          // Expected block sizes: runs of consecutive same-format inputs, each cut into full blocks plus a remainder.
          const expected: [number, number, number][] = [];
          for (let i = 0; i < inputs.length; ) {
            const { sampleRate, channels } = inputs[i]!;
            let total = 0;
            for (; i < inputs.length && inputs[i]!.sampleRate === sampleRate && inputs[i]!.channels === channels; i++) total += inputs[i]!.samples.length / channels;
            for (; total >= samples; total -= samples) expected.push([sampleRate, channels, samples]);
            if (total > 0) expected.push([sampleRate, channels, total]);
          }
          expect(blocks.map((b) => [b.sampleRate, b.channels, b.samples.length / b.channels])).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
