import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  checkPayload,
  decodePayload,
  encodePayload,
  MAX_BIGINT_BYTES,
  MAX_FRAME_CHANNELS,
  MAX_FRAME_SAMPLE_RATE_HZ,
  MAX_PAYLOAD_CONTAINERS,
  MAX_PAYLOAD_DEPTH,
} from '../../src/remote/codec.js';
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
      fc.property(fc.float32Array({ maxLength: 400 }), fc.integer({ min: 1, max: 192000 }), fc.double({ noNaN: true, noDefaultInfinity: true }), (samples, sampleRate, pts) => {
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
    expect(() => decodePayload(new Uint8Array([0x92, 0x01, 0xc1]))).toThrow('0xC1');
    expect(() => decodePayload(new Uint8Array([0x01, 0x02]))).toThrow(/end of buffer not reached/);
  });

  it('refuses values msgpack cannot carry, naming remote', () => {
    expect(() => encodePayload(() => 1)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', node: 'remote' }));
  });
});

/** An AudioFrame extension record (ext 32) with the given header fields, metadata bytes and sample bytes. */
function frameExtension(header: { sampleRate?: number; channels?: number; pts?: number; metaLength?: number }, meta = new Uint8Array(0), sampleBytes = 0): Uint8Array {
  const content = new Uint8Array(28 + meta.length + ((4 - ((28 + meta.length) % 4)) % 4) + sampleBytes);
  const view = new DataView(content.buffer);
  view.setFloat64(0, header.sampleRate ?? 16000, true);
  view.setFloat64(8, header.channels ?? 1, true);
  view.setFloat64(16, header.pts ?? 0, true);
  view.setUint32(24, header.metaLength ?? meta.length, true);
  content.set(meta, 28);
  const out = new Uint8Array(6 + content.length);
  out[0] = 0xc9;
  new DataView(out.buffer).setUint32(1, content.length);
  out[5] = 0x41;
  out.set(content, 6);
  return out;
}

const nested = (levels: number): Uint8Array => new Uint8Array([...new Array<number>(levels).fill(0x91), 0x01]);

describe('remote payload codec under hostile bytes', () => {
  it('issue #11: a 35-byte frame whose metadata length wraps in 32-bit is refused without allocating', () => {
    // The old layout math ((28 + 0xfffffffd + 3) & ~3) wrapped to a negative offset and allocated ~2 GiB.
    const bytes = new Uint8Array(35);
    bytes.set([0xc7, 32, 0x41]);
    const view = new DataView(bytes.buffer);
    view.setFloat64(3, 16000, true);
    view.setFloat64(11, 1, true);
    view.setUint32(27, 0xfffffffd, true);
    const before = process.memoryUsage().arrayBuffers;
    expect(() => decodePayload(bytes)).toThrow(/metadata length 4294967293 exceeds the 4 bytes after the header/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
  });

  it('checks every AudioFrame header field and length against the bytes present', () => {
    expect(() => decodePayload(frameExtension({ metaLength: 1 }, new Uint8Array(0), 0))).toThrow(/metadata length 1 exceeds/);
    expect(() => decodePayload(frameExtension({}, new Uint8Array(0), 6))).toThrow(/not a whole number of floats/);
    expect(() => decodePayload(frameExtension({ channels: 2 }, new Uint8Array(0), 12))).toThrow('3 samples, not a multiple of its 2 channels');
    for (const channels of [0, -1, 1.5, Number.NaN, MAX_FRAME_CHANNELS + 1, 2 ** 40]) {
      expect(() => decodePayload(frameExtension({ channels }))).toThrow(/channels must be an integer 1\.\.256/);
    }
    expect(decodePayload(frameExtension({ channels: MAX_FRAME_CHANNELS }))).toMatchObject({ channels: MAX_FRAME_CHANNELS });
    for (const sampleRate of [0, -16000, 0.5, Number.POSITIVE_INFINITY, MAX_FRAME_SAMPLE_RATE_HZ + 1]) {
      expect(() => decodePayload(frameExtension({ sampleRate }))).toThrow(/sampleRate must be an integer/);
    }
    expect(decodePayload(frameExtension({ sampleRate: MAX_FRAME_SAMPLE_RATE_HZ }))).toMatchObject({ sampleRate: MAX_FRAME_SAMPLE_RATE_HZ });
    for (const pts of [Number.NaN, Number.NEGATIVE_INFINITY]) expect(() => decodePayload(frameExtension({ pts }))).toThrow(/pts must be a finite/);
    expect(() => decodePayload(frameExtension({}, new Uint8Array([0x01])))).toThrow('AudioFrame metadata must be a map');
    expect(() => decodePayload(frameExtension({}, new Uint8Array([0x81, 0xa1, 0x61])))).toThrow(/end of MessagePack data/);
    expect(() => decodePayload(frameExtension({}, new Uint8Array([0x80, 0x80])))).toThrow('AudioFrame metadata is not exactly one msgpack value');
    expect(() => decodePayload(new Uint8Array([0xd4, 0x41, 0x00]))).toThrow(/shorter than its 28-byte header/);
  });

  it('refuses declared lengths longer than the bytes present before allocating (array/map/str/bin/ext 32)', () => {
    const huge = (token: number, extra: number[] = []): Uint8Array => new Uint8Array([token, 0xff, 0xff, 0xff, 0xff, ...extra]);
    const before = process.memoryUsage().arrayBuffers;
    expect(() => decodePayload(huge(0xdd, [1]))).toThrow(/array 32 of 4294967295 entries needs 4294967295 bytes but only 1 remain/);
    expect(() => decodePayload(huge(0xdf, [1]))).toThrow(/map 32 of 4294967295 entries/);
    expect(() => decodePayload(huge(0xdb, [0x61]))).toThrow(/str 32 needs 4294967295 bytes/);
    expect(() => decodePayload(huge(0xc6, [0]))).toThrow(/bin 32 needs 4294967295 bytes/);
    expect(() => decodePayload(huge(0xc9, [0x74, 1]))).toThrow(/extension of 4294967295 bytes needs 4294967296 bytes/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
  });

  it(`MAX_PAYLOAD_DEPTH: ${MAX_PAYLOAD_DEPTH} nested containers decode, one more is refused (no stack overflow at any depth)`, () => {
    expect(checkPayload(nested(MAX_PAYLOAD_DEPTH))).toBeUndefined();
    expect(() => decodePayload(nested(MAX_PAYLOAD_DEPTH + 1))).toThrow(`payload nests deeper than ${MAX_PAYLOAD_DEPTH} levels (MAX_PAYLOAD_DEPTH)`);
    expect(() => decodePayload(nested(1_000_000))).toThrow(/MAX_PAYLOAD_DEPTH/);
    // Depth runs on through a frame's metadata: a frame one level down whose metadata nests to the limit.
    const deepMeta = new Uint8Array([0x81, 0xa1, 0x6d, ...nested(MAX_PAYLOAD_DEPTH - 2)]);
    expect(() => decodePayload(new Uint8Array([0x91, ...frameExtension({}, deepMeta)]))).toThrow(/MAX_PAYLOAD_DEPTH/);
    expect(decodePayload(frameExtension({}, deepMeta))).toMatchObject({ metadata: { m: expect.any(Array) as unknown } });
  });

  it(`MAX_PAYLOAD_CONTAINERS: ${MAX_PAYLOAD_CONTAINERS} containers decode, one more is refused`, () => {
    const maps = (n: number): Uint8Array => new Uint8Array([0xdc, n >> 8, n & 0xff, ...new Array<number>(n).fill(0x80)]);
    expect((decodePayload(maps(MAX_PAYLOAD_CONTAINERS - 1)) as unknown[]).length).toBe(MAX_PAYLOAD_CONTAINERS - 1);
    expect(() => decodePayload(maps(MAX_PAYLOAD_CONTAINERS))).toThrow(`more than ${MAX_PAYLOAD_CONTAINERS} containers (MAX_PAYLOAD_CONTAINERS)`);
  });

  it('typed-array, Date and big-integer extensions with bad codes, sizes or alignment are refused', () => {
    expect(() => decodePayload(new Uint8Array([0xd4, 0x74, 99]))).toThrow('unknown element code 99');
    expect(() => decodePayload(new Uint8Array([0xc7, 0, 0x74]))).toThrow('unknown element code undefined');
    expect(() => decodePayload(new Uint8Array([0xc7, 4, 0x74, 7, 0, 0, 0]))).toThrow('3 bytes is not a whole number of 4-byte elements');
    expect(decodePayload(new Uint8Array([0xc7, 5, 0x74, 7, 0, 0, 0x80, 0x3f]))).toEqual(new Float32Array([1]));
    expect(() => decodePayload(new Uint8Array([0xd5, 0xff, 0, 0]))).toThrow('Date extension must be 1, 4, 8 or 12 bytes, got 2');
    const bigint = (n: number): Uint8Array => new Uint8Array([0xc8, n >> 8, n & 0xff, 0x42, ...new Array<number>(n).fill(1)]);
    expect(typeof decodePayload(bigint(MAX_BIGINT_BYTES))).toBe('bigint');
    expect(() => decodePayload(bigint(MAX_BIGINT_BYTES + 1))).toThrow(/MAX_BIGINT_BYTES/);
  });

  it('wire fuzzing regression: every frame-shaped value encodePayload accepts decodes back equal (invalid or extended frames go generic)', () => {
    const samples = new Float32Array([0.5, -0.25, 1]);
    const cases: Array<Record<string, unknown>> = [
      { samples, sampleRate: 16000, channels: 1, pts: 0, label: 'kept' }, // the extension used to drop `label`
      { samples, sampleRate: 0.5, channels: 1, pts: 0 }, // the decoder refused these five
      { samples, sampleRate: 16000, channels: 2, pts: 0 },
      { samples, sampleRate: 16000, channels: 1, pts: Number.NaN },
      { samples, sampleRate: 16000, channels: 1, pts: 0, metadata: 5 },
      { samples, sampleRate: 16000, channels: 1, pts: 0, metadata: null },
    ];
    for (const value of cases) expect(decodePayload(encodePayload(value))).toEqual(value);
    // A valid frame still travels as the compact extension.
    expect(encodePayload({ samples, sampleRate: 16000, channels: 1, pts: 0 })[2]).toBe(0x41);
    // An Invalid Date is msgpackr's 1-byte Date extension: it round-trips instead of failing the stream.
    expect(Number.isNaN((decodePayload(encodePayload(new Date(Number.NaN))) as Date).getTime())).toBe(true);
  });

  it('refuses extension types encodePayload never writes: Error, records, structured-clone references, bundled strings', () => {
    expect(() => decodePayload(new Uint8Array([0xd4, 0x65, 0, 0x92, 0xa1, 0x45, 0xa1, 0x78]))).toThrow('extension type 0x65');
    expect(() => decodePayload(new Uint8Array([0xd4, 0x72, 0x40, 0x91, 0xa1, 0x61, 0x01]))).toThrow('extension type 0x72');
    expect(() => decodePayload(new Uint8Array([0xd6, 0x69, 0, 0, 0, 1, 0x90]))).toThrow('extension type 0x69');
    expect(() => decodePayload(new Uint8Array([0xd6, 0x70, 0, 0, 0, 1]))).toThrow('extension type 0x70');
    expect(() => decodePayload(new Uint8Array([0xd6, 0x62, 0, 0, 0, 9, 0xa0, 0xa0, 0x01]))).toThrow('extension type 0x62');
    expect(() => decodePayload(new Uint8Array([0xd4, 0x10, 0]))).toThrow('extension type 0x10');
  });

  it('decodes many frames with metadata in linear time (no nested unpack, which copied the whole message per frame)', () => {
    const one = frameExtension({}, new Uint8Array([0x81, 0xa1, 0x61, 0x01]));
    const frames = (n: number): Uint8Array => {
      const bytes = new Uint8Array(3 + n * one.length);
      bytes.set([0xdc, n >> 8, n & 0xff]);
      for (let i = 0; i < n; i++) bytes.set(one, 3 + i * one.length);
      return bytes;
    };
    const n = 3000;
    const bytes = frames(n);
    for (let i = 0; i < 3; i++) decodePayload(bytes); // warm-up: the first calls include compilation
    const start = performance.now();
    const decoded = decodePayload(bytes) as AudioFrame[];
    // Quadratic copying took seconds here; linear is a few ms. 100 ms is the executor's answer bound.
    expect(performance.now() - start).toBeLessThan(100);
    expect(decoded).toHaveLength(n);
    expect(decoded[n - 1]!.metadata).toEqual({ a: 1 });
  });
});
