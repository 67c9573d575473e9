import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, InvalidParamsError } from '../../../src/errors.js';
import type { AudioFrame } from '../../../src/media/audioFrame.js';
import { channelMix } from '../../../src/operators/audio/channelMix.js';
import { marbleTest } from '../../../src/testing/index.js';

const assertEqual = (a: unknown, e: unknown): void => expect(a).toEqual(e);

function frame(samples: number[], channels: number, pts = 0): AudioFrame {
  return { samples: Float32Array.from(samples), sampleRate: 16000, channels, pts };
}

async function mixOne(input: AudioFrame, channels: number): Promise<AudioFrame> {
  const [out] = await lastValueFrom(from([input]).pipe(channelMix({ channels }), toArray()));
  return out!;
}

describe('channelMix node', () => {
  it('down-mixes stereo to mono by averaging each frame', () =>
    marbleTest(({ cold, expectObservable }) => {
      const a = frame([0.5, 0.25, -1, 1], 2, 0);
      const b = frame([0.75, 0.25], 2, 125);
      const x = frame([0.375, 0], 1, 0);
      const y = frame([0.5], 1, 125);
      expectObservable(cold('-a-b-|', { a, b }).pipe(channelMix({ channels: 1 }))).toBe('-x-y-|', { x, y });
    }, assertEqual));

  it('holds nothing: completes right after the last frame', () =>
    marbleTest(({ cold, expectObservable }) => {
      const a = frame([0.5], 1);
      expectObservable(cold('-a|', { a }).pipe(channelMix({ channels: 2 }))).toBe('-x|', { x: frame([0.5, 0.5], 2) });
    }, assertEqual));

  it('forwards an error', () =>
    marbleTest(({ cold, expectObservable }) => {
      const a = frame([0.5, 0.5], 2);
      expectObservable(cold('-a-#', { a }, new Error('boom')).pipe(channelMix({ channels: 1 }))).toBe('-x-#', { x: frame([0.5], 1) }, new Error('boom'));
    }, assertEqual));

  it('releases the source on early unsubscribe', () =>
    marbleTest(({ cold, expectObservable, expectSubscriptions }) => {
      const a = frame([0.5], 1);
      const source = cold('-a-a-a-|', { a });
      expectObservable(source.pipe(channelMix({ channels: 2 })), '----!').toBe('-x-x', { x: frame([0.5, 0.5], 2) });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    }, assertEqual));

  it('passes a frame that already has the channel count through as the same object', async () => {
    const input = frame([0.1, 0.2], 2);
    expect(await mixOne(input, 2)).toBe(input);
  });

  it('duplicates mono into stereo', async () => {
    expect(await mixOne(frame([0.25, -0.5], 1), 2)).toEqual(frame([0.25, 0.25, -0.5, -0.5], 2));
  });

  it('down-mixes N→M by averaging input channels i ≡ j (mod M) into output j', async () => {
    expect(await mixOne(frame([0.5, 0.25, 0.25, 0.75], 4), 2)).toEqual(frame([0.375, 0.5], 2));
    expect(await mixOne(frame([0.5, 0.25, 0.25], 3), 2)).toEqual(frame([0.375, 0.25], 2));
    expect(await mixOne(frame([0.25, 0.5, 0.75, 0.5, 0, 1], 6), 1)).toEqual(frame([0.5], 1));
  });

  it('up-mixes N→M by copying input channel j mod N into output j', async () => {
    expect(await mixOne(frame([0.25, 0.5], 2), 3)).toEqual(frame([0.25, 0.5, 0.25], 3));
  });

  it('keeps sampleRate, pts and metadata', async () => {
    const out = await mixOne({ samples: Float32Array.from([1, 0]), sampleRate: 44100, channels: 2, pts: 777, metadata: { vad: true } }, 1);
    expect(out).toEqual({ samples: Float32Array.from([0.5]), sampleRate: 44100, channels: 1, pts: 777, metadata: { vad: true } });
  });

  it('never leaves [-1, 1] when down-mixing full-scale input', async () => {
    const out = await mixOne(frame([1, 1, 1, -1, -1, -1], 3), 1);
    expect(Array.from(out.samples)).toEqual([1, -1]);
  });

  it.each([0, 1.5, 129, '2'])('rejects channels = %s naming the field', (channels) => {
    expect(() => channelMix({ channels } as never)).toThrow(InvalidParamsError);
    expect(() => channelMix({ channels } as never)).toThrow(expect.objectContaining({ field: 'channels', node: 'audio.channelMix' }));
  });

  it('rejects missing params naming the field', () => {
    expect(() => channelMix(undefined as never)).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS', field: 'channels' }));
  });

  it('rejects an item whose samples are not a Float32Array', async () => {
    const bad = { samples: [1, 2], sampleRate: 16000, channels: 1, pts: 0 } as unknown as AudioFrame;
    const error: unknown = await mixOne(bad, 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', field: 'samples', node: 'audio.channelMix' });
  });
});
