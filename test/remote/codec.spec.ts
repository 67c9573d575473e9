import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodePayload, encodePayload } from '../../src/remote/codec.js';
import type { AudioFrame } from '../../src/media/audioFrame.js';

const bits = (a: Float32Array): number[] => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

describe('remote payload codec', () => {
  it('round-trips an AudioFrame bit-exactly, NaN payloads and metadata included', () => {
    const samples = new Float32Array([0, -1, 1, 0.123456789, -0, Number.NaN, 1e-40]);
    const frame: AudioFrame = { samples, sampleRate: 16000, channels: 1, pts: 20_000.5, metadata: { vad: { speech: true, rms: 0.25 } } };
    const out = decodePayload(encodePayload(frame)) as AudioFrame;
    expect(out.samples).toBeInstanceOf(Float32Array);
    expect(bits(out.samples)).toEqual(bits(samples));
    expect({ ...out, samples: undefined }).toEqual({ ...frame, samples: undefined });
  });

  it('sends a frame as header + raw samples (one copy of the bytes, no per-sample encoding)', () => {
    const samples = new Float32Array(320).map((_, i) => Math.sin(i / 10));
    const bytes = encodePayload({ samples, sampleRate: 16000, channels: 1, pts: 0 });
    // 28-byte fixed header, up to 6 bytes of msgpack ext framing, up to 3 bytes of padding.
    expect(bytes.length).toBeLessThanOrEqual(samples.byteLength + 37);
  });

  it('handles a frame whose samples are a view at an odd offset of a bigger buffer', () => {
    const backing = new Float32Array(10).map((_, i) => i / 10);
    const samples = backing.subarray(3, 7);
    const out = decodePayload(encodePayload({ samples, sampleRate: 8000, channels: 2, pts: 0 })) as AudioFrame;
    expect([...out.samples]).toEqual([...samples]);
    expect(out.metadata).toBeUndefined();
  });

  it('round-trips property-generated frames exactly', () => {
    fc.assert(
      fc.property(fc.float32Array({ maxLength: 400 }), fc.integer({ min: 1, max: 192000 }), fc.double({ noNaN: true }), (samples, sampleRate, pts) => {
        const out = decodePayload(encodePayload({ samples, sampleRate, channels: 1, pts })) as AudioFrame;
        expect(bits(out.samples)).toEqual(bits(samples));
        expect([out.sampleRate, out.channels, out.pts]).toEqual([sampleRate, 1, pts]);
      }),
    );
  });

  it('round-trips JSON values, typed arrays, bytes, Dates and nested frames (Maps arrive as objects)', () => {
    const value = {
      n: 1.5,
      s: 'text',
      list: [1, null, true],
      i16: new Int16Array([-32768, 32767]),
      bytes: new Uint8Array([1, 2, 3]),
      date: new Date(5),
      nested: { samples: new Float32Array([0.5]), sampleRate: 8000, channels: 1, pts: 0 },
    };
    expect(decodePayload(encodePayload(value))).toEqual(value);
    expect(decodePayload(encodePayload(new Uint8Array([9, 8])))).toEqual(new Uint8Array([9, 8]));
    expect(decodePayload(encodePayload(new Map([['a', 1]])))).toEqual({ a: 1 });
  });

  it('rejects malformed bytes with a clear message', () => {
    expect(() => decodePayload(new Uint8Array([]))).toThrow('payload is empty');
    expect(() => decodePayload(new Uint8Array([0xc1]))).toThrow('0xC1');
    expect(() => decodePayload(new Uint8Array([0x92, 0x01]))).toThrow(/end of MessagePack data/);
    expect(() => decodePayload(new Uint8Array([0x01, 0x02]))).toThrow(/end of buffer not reached/);
  });

  it('refuses values msgpack cannot carry, naming remote', () => {
    expect(() => encodePayload(() => 1)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', node: 'remote' }));
  });
});
