import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import { audioFrame, checkAudioFrame, durationMicros, frameCount, fromInt16, toInt16 } from '../../src/media/audioFrame.js';

describe('AudioFrame helpers', () => {
  it('audioFrame validates and defaults pts to 0 µs', () => {
    const f = audioFrame({ samples: new Float32Array(320), sampleRate: 16_000, channels: 2 });
    expect(f.pts).toBe(0);
    expect(frameCount(f)).toBe(160);
    expect(durationMicros(f)).toBe(10_000);
  });

  it('plain objects pass checkAudioFrame unchanged', () => {
    const plain = { samples: new Float32Array(4), sampleRate: 8000, channels: 1, pts: 5 };
    expect(checkAudioFrame(plain)).toBe(plain);
  });

  it.each([
    [null, ''],
    [{ samples: [0, 1], sampleRate: 16_000, channels: 1 }, 'samples'],
    [{ samples: new Int16Array(2), sampleRate: 16_000, channels: 1 }, 'samples'],
    [{ samples: new Float32Array(2), sampleRate: 0, channels: 1 }, 'sampleRate'],
    [{ samples: new Float32Array(2), sampleRate: 16_000, channels: 1.5 }, 'channels'],
    [{ samples: new Float32Array(3), sampleRate: 16_000, channels: 2 }, 'samples'],
    [{ samples: new Float32Array(2), sampleRate: 16_000, channels: 1, pts: Number.NaN }, 'pts'],
  ])('rejects %o naming field %s', (value, field) => {
    try {
      checkAudioFrame(value, 'audio.test');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInputError);
      expect(e).toMatchObject({ code: 'INVALID_INPUT', node: 'audio.test', field });
    }
  });

  it('toInt16 is the exact inverse of fromInt16 and clips out-of-range floats', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 200 }), (values) => {
        const pcm = Int16Array.from(values);
        expect(toInt16(fromInt16(pcm))).toEqual(pcm);
      }),
    );
    expect(Array.from(toInt16(Float32Array.from([1.5, 1, -1, -2, 0])))).toEqual([32767, 32767, -32768, -32768, 0]);
  });
});
