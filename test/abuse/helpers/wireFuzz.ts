/**
 * Helpers for the wire fuzzing of test/abuse/wire.spec.ts: a deep equality for decoded payloads, fast-check
 * generators of msgpack values, byte mutations and AudioFrame extension records, and a raw gRPC client that writes
 * arbitrary bytes as the protobuf of each Stream message.
 */
import { Client, credentials, Metadata, type StatusObject } from '@grpc/grpc-js';
import fc from 'fast-check';
import { AUDIO_FRAME_EXTENSION } from '../../../src/remote/codec.js';

/**
 * Equality of decoded payloads: NaN equals NaN (and 0 equals -0, which msgpack integers do not keep), typed arrays,
 * ArrayBuffers and DataViews by type and bytes, Dates by time (Invalid Dates equal), RegExps by source and flags,
 * Sets in order, objects by own enumerable keys.
 */
export function wireEqual(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) && !(isPlain(a) && isPlain(b))) return false;
  if (ArrayBuffer.isView(a) || a instanceof ArrayBuffer) return sameBytes(a, b as ArrayBufferView | ArrayBuffer);
  if (a instanceof Date) return wireEqual(a.getTime(), (b as Date).getTime());
  if (a instanceof RegExp) return a.source === (b as RegExp).source && a.flags === (b as RegExp).flags;
  if (a instanceof Set) return wireEqual([...a], [...(b as Set<unknown>)]);
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => wireEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && wireEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function isPlain(x: object): boolean {
  const proto: unknown = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function sameBytes(a: ArrayBufferView | ArrayBuffer, b: ArrayBufferView | ArrayBuffer): boolean {
  const ua = a instanceof ArrayBuffer ? new Uint8Array(a) : new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const ub = b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return ua.length === ub.length && ua.every((x, i) => x === ub[i]);
}

/** Doubles that stress header checks and number encodings. */
export const edgeDouble = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, -0, 0, 1, -1, 0.5, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 53, -(2 ** 31), Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, 16000, 768_000, 768_001, 256, 257),
);

/** Frame-shaped objects, valid or not (extra keys, bad rates, non-map metadata, odd sample counts). */
export const frameLike = fc.record(
  {
    samples: fc.float32Array({ maxLength: 64 }),
    sampleRate: fc.oneof(fc.integer({ min: 1, max: 768_000 }), edgeDouble),
    channels: fc.oneof(fc.integer({ min: 1, max: 4 }), edgeDouble),
    pts: edgeDouble,
    metadata: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), fc.constant(null), fc.integer()),
    label: fc.string({ maxLength: 8 }),
  },
  { requiredKeys: ['samples', 'sampleRate', 'channels', 'pts'] },
);

/** Values remote() items may be: JSON, typed arrays, Dates, Sets, Maps, bytes, frames (top level and nested). */
export const payloadValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.anything({ withTypedArray: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withObjectString: true, maxDepth: 3, maxKeys: 6 }) },
  { weight: 2, arbitrary: frameLike },
  { weight: 1, arbitrary: fc.array(frameLike, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.record({ frame: frameLike, n: fc.double(), big: fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }) }) },
);

/** One byte-level mutation. */
export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; remove: number; insert: Uint8Array }
  | { kind: 'length'; at: number; width: 1 | 2 | 4; value: number };

/** Values written over a length field: wrapping, sign-bit and off-by-small lengths. */
const LENGTHS = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffd, 0xfffffffe, 0xffffffff];

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), remove: fc.nat({ max: 8 }), insert: fc.uint8Array({ maxLength: 12 }) }),
  fc.record({ kind: fc.constant('length' as const), at: fc.nat(), width: fc.constantFrom(1 as const, 2 as const, 4 as const), value: fc.constantFrom(...LENGTHS) }),
);

/** `bytes` with `m` applied (positions wrap to the buffer's length; big-endian length fields, as msgpack's). */
export function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const out = Uint8Array.from(bytes);
  if (out.length === 0) return m.kind === 'splice' ? m.insert : out;
  const at = m.at % out.length;
  switch (m.kind) {
    case 'flip':
      out[at]! ^= 1 << m.bit;
      return out;
    case 'truncate':
      return out.subarray(0, at);
    case 'splice':
      return new Uint8Array([...out.subarray(0, at), ...m.insert, ...out.subarray(Math.min(out.length, at + m.remove))]);
    case 'length': {
      const view = new DataView(out.buffer);
      const room = out.length - at;
      if (m.width === 4 && room >= 4) view.setUint32(at, m.value >>> 0);
      else if (m.width >= 2 && room >= 2) view.setUint16(at, m.value & 0xffff);
      else out[at] = m.value & 0xff;
      return out;
    }
  }
}

/** Fields of a crafted AudioFrame extension record (little-endian header, as codec.ts writes it). */
export interface FrameRecord {
  sampleRate: number;
  channels: number;
  pts: number;
  metaLength: number;
  meta: Uint8Array;
  pad: number;
  sampleBytes: Uint8Array;
  /** Extension framing: ext 8/16/32, and a declared size that may lie by `sizeDelta`. */
  ext: 8 | 16 | 32;
  sizeDelta: number;
  /** Nest the frame one level down in an array. */
  nested: boolean;
}

export const frameRecord: fc.Arbitrary<FrameRecord> = fc.record({
  sampleRate: edgeDouble,
  channels: edgeDouble,
  pts: edgeDouble,
  metaLength: fc.oneof(fc.nat({ max: 16 }), fc.constantFrom(...LENGTHS)),
  meta: fc.oneof(fc.uint8Array({ maxLength: 16 }), fc.constant(new Uint8Array([0x81, 0xa1, 0x61, 0x01])), fc.constant(new Uint8Array([0x80]))),
  pad: fc.nat({ max: 3 }),
  sampleBytes: fc.uint8Array({ maxLength: 64 }),
  ext: fc.constantFrom(8 as const, 16 as const, 32 as const),
  sizeDelta: fc.oneof(fc.constant(0), fc.integer({ min: -8, max: 8 }), fc.constantFrom(2 ** 31, 2 ** 32 - 1)),
  nested: fc.boolean(),
});

/** The msgpack bytes of a {@link FrameRecord}. */
export function frameBytes(r: FrameRecord): Uint8Array {
  const body = new Uint8Array(28 + r.meta.length + r.pad + r.sampleBytes.length);
  const view = new DataView(body.buffer);
  view.setFloat64(0, r.sampleRate, true);
  view.setFloat64(8, r.channels, true);
  view.setFloat64(16, r.pts, true);
  view.setUint32(24, r.metaLength >>> 0, true);
  body.set(r.meta, 28);
  body.set(r.sampleBytes, 28 + r.meta.length + r.pad);
  const declared = Math.max(0, body.length + r.sizeDelta);
  let head: number[];
  if (r.ext === 8) head = [0xc7, declared & 0xff];
  else if (r.ext === 16) head = [0xc8, (declared >> 8) & 0xff, declared & 0xff];
  else head = [0xc9, (declared >>> 24) & 0xff, (declared >>> 16) & 0xff, (declared >>> 8) & 0xff, declared & 0xff];
  const ext = new Uint8Array([...head, AUDIO_FRAME_EXTENSION, ...body]);
  return r.nested ? new Uint8Array([0x91, ...ext]) : ext;
}

/**
 * One Stream call whose messages are written as raw bytes (the protobuf of each StreamMessage, or garbage), read back
 * as raw bytes. Resolves with the final status, or rejects after `timeoutMs` (the call is then cancelled).
 */
export function rawBytesStream(address: string, frames: Buffer[], timeoutMs: number): Promise<{ status: StatusObject; replies: Buffer[] }> {
  const client = new Client(address, credentials.createInsecure());
  const call = client.makeBidiStreamRequest<Buffer, Buffer>('/remotemedia.v1.RemoteMedia/Stream', (b: Buffer) => b, (b: Buffer) => b, new Metadata());
  const replies: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      call.cancel();
      client.close();
      reject(new Error(`no status within ${timeoutMs} ms for frames ${JSON.stringify(frames.map((f) => f.toString('hex')))}`));
    }, timeoutMs);
    call.on('data', (b: Buffer) => replies.push(b));
    call.on('error', () => undefined);
    call.on('status', (status: StatusObject) => {
      clearTimeout(timer);
      client.close();
      resolve({ status, replies });
    });
    for (const f of frames) call.write(f);
    call.end();
  });
}
