import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { from, lastValueFrom, map, toArray, type OperatorFunction } from 'rxjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidInputError, InvalidParamsError } from '../../../src/errors.js';
import type { AudioFrame } from '../../../src/media/audioFrame.js';
import { audioTransform } from '../../../src/operators/audio/audioTransform.js';
import { channelMix } from '../../../src/operators/audio/channelMix.js';
import { resample } from '../../../src/operators/audio/resample.js';
import { marbleTest } from '../../../src/testing/index.js';

const assertEqual = (a: unknown, e: unknown): void => expect(a).toEqual(e);

/** `frames` frames of distinct per-channel tones (so a wrong channel mapping changes the values), pts from `start`. */
function tones(start: number, frames: number, sampleRate: number, channels: number): AudioFrame {
  const samples = new Float32Array(frames * channels);
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++) samples[f * channels + c] = 0.4 * Math.sin((2 * Math.PI * (300 + 200 * c) * (start + f)) / sampleRate);
  }
  return { samples, sampleRate, channels, pts: (start * 1e6) / sampleRate };
}

function chunked(totalFrames: number, chunk: number, sampleRate: number, channels: number): AudioFrame[] {
  const frames: AudioFrame[] = [];
  for (let at = 0; at < totalFrames; at += chunk) frames.push(tones(at, Math.min(chunk, totalFrames - at), sampleRate, channels));
  return frames;
}

function run(frames: readonly AudioFrame[], ...ops: OperatorFunction<AudioFrame, AudioFrame>[]): Promise<AudioFrame[]> {
  let out$ = from(frames);
  for (const op of ops) out$ = out$.pipe(op);
  return lastValueFrom(out$.pipe(toArray()));
}

const shape = (f: AudioFrame): [number, number, number, number] => [f.samples.length / f.channels, f.channels, f.sampleRate, f.pts];

let destroy: ReturnType<typeof vi.spyOn>;
let full: ReturnType<typeof vi.spyOn>;
/** Channel counts of the libsamplerate converters that received audio since the last test. */
const converterChannels = (): Set<number> => new Set(full.mock.instances.map((src: unknown) => (src as { nChannels: number }).nChannels));
beforeAll(async () => {
  const probe = await libsamplerate.create(1, 8000, 16000);
  const prototype = Object.getPrototypeOf(probe) as { destroy(): void; full(data: Float32Array): Float32Array };
  destroy = vi.spyOn(prototype, 'destroy');
  full = vi.spyOn(prototype, 'full');
  probe.destroy();
});
afterEach(() => {
  destroy.mockClear();
  full.mockClear();
});

describe('audioTransform node', () => {
  it('converts 48 kHz stereo to 16 kHz mono, frame by frame', () =>
    marbleTest(({ cold, expectObservable }) => {
      const [a, b] = chunked(1920, 960, 48000, 2) as [AudioFrame, AudioFrame];
      const out$ = cold('-a-b-|', { a, b }).pipe(audioTransform({ sampleRate: 16000, channels: 1, quality: 'linear' }), map(shape));
      expectObservable(out$).toBe('-x-y-|', { x: [320, 1, 16000, 0], y: [320, 1, 16000, 20_000] });
    }, assertEqual));

  it('emits the resampler tail on complete', () =>
    marbleTest(({ cold, expectObservable }) => {
      const a = tones(0, 960, 48000, 2);
      const out$ = cold('-a-|', { a }).pipe(audioTransform({ sampleRate: 16000, channels: 1 }), map(shape));
      expectObservable(out$).toBe('-x-(y|)', { x: [274, 1, 16000, 0], y: [46, 1, 16000, 17_125] });
    }, assertEqual));

  it('forwards an error and frees the converter', () => {
    marbleTest(({ cold, expectObservable }) => {
      const a = tones(0, 960, 48000, 1);
      const out$ = cold('-a-#', { a }, new Error('boom')).pipe(audioTransform({ sampleRate: 16000 }), map(shape));
      expectObservable(out$).toBe('-x-#', { x: [274, 1, 16000, 0] }, new Error('boom'));
    }, assertEqual);
    expect(destroy).toHaveBeenCalledTimes(1);
  });

  it('releases the source and frees the converter on early unsubscribe', () => {
    marbleTest(({ cold, expectObservable, expectSubscriptions }) => {
      const [a, b, c] = chunked(2880, 960, 48000, 2) as [AudioFrame, AudioFrame, AudioFrame];
      const source = cold('-a-b-c-|', { a, b, c });
      const out$ = source.pipe(audioTransform({ sampleRate: 16000, channels: 1, quality: 'linear' }), map((f) => f.samples.length));
      expectObservable(out$, '----!').toBe('-x-x', { x: 320 });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    }, assertEqual);
    expect(destroy).toHaveBeenCalledTimes(1);
  });

  it('passes frames through when both params are absent', () =>
    marbleTest(({ cold, expectObservable }) => {
      const [a, b] = chunked(320, 160, 44100, 2) as [AudioFrame, AudioFrame];
      expectObservable(cold('-a-b|', { a, b }).pipe(audioTransform())).toBe('-a-b|', { a, b });
    }, assertEqual));

  it('with channels only, equals channelMix', async () => {
    const input = chunked(960, 480, 48000, 2);
    expect(await run(input, audioTransform({ channels: 1 }))).toEqual(await run(input, channelMix({ channels: 1 })));
  });

  it('with sampleRate only, equals resample', async () => {
    const input = chunked(4410, 441, 44100, 2);
    expect(await run(input, audioTransform({ sampleRate: 48000 }))).toEqual(await run(input, resample({ rate: 48000 })));
  });

  it('down-mixes before resampling: equals channelMix then resample, and the converter sees one channel', async () => {
    const input = chunked(4800, 480, 48000, 2);
    const out = await run(input, audioTransform({ sampleRate: 16000, channels: 1 }));
    expect(converterChannels()).toEqual(new Set([1]));
    expect(out).toEqual(await run(input, channelMix({ channels: 1 }), resample({ rate: 16000 })));
  });

  it('up-mixes after resampling: equals resample then channelMix, and the converter sees one channel', async () => {
    const input = chunked(1600, 160, 16000, 1);
    const out = await run(input, audioTransform({ sampleRate: 48000, channels: 2 }));
    expect(converterChannels()).toEqual(new Set([1]));
    expect(out).toEqual(await run(input, resample({ rate: 48000 }), channelMix({ channels: 2 })));
    expect(out.every((f) => f.channels === 2)).toBe(true);
  });

  it('flushes the tail (mixed to the target channels) when the input format changes mid-stream', async () => {
    const input = [...chunked(960, 480, 16000, 1), ...chunked(960, 480, 48000, 2)];
    const out = await run(input, audioTransform({ sampleRate: 8000, channels: 2 }));
    expect(out.every((f) => f.channels === 2 && f.sampleRate === 8000)).toBe(true);
    const frames = out.reduce((n, f) => n + f.samples.length / 2, 0);
    expect(frames).toBe(480 + 160);
    expect(destroy).toHaveBeenCalledTimes(2);
  });

  it.each([
    [{ sampleRate: 0 }, 'sampleRate'],
    [{ sampleRate: 16000.5 }, 'sampleRate'],
    [{ channels: 0 }, 'channels'],
    [{ channels: 'stereo' }, 'channels'],
    [{ quality: 'ultra' }, 'quality'],
  ])('rejects params %j naming field %s', (params, field) => {
    expect(() => audioTransform(params as never)).toThrow(InvalidParamsError);
    expect(() => audioTransform(params as never)).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS', field, node: 'audio.audioTransform' }));
  });

  it('rejects an item whose samples are not a Float32Array', async () => {
    const bad = { samples: [1, 2], sampleRate: 16000, channels: 1, pts: 0 } as unknown as AudioFrame;
    const error: unknown = await run([bad], audioTransform({ sampleRate: 8000 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', field: 'samples', node: 'audio.audioTransform' });
  });
});
