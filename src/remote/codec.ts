/**
 * Payload codec: every item crossing `remote()` is one msgpack value (msgpackr with `moreTypes`, so typed arrays and
 * Dates round-trip; a Map arrives as a plain object). A top-level `AudioFrame` travels as one extension record: a
 * fixed binary header (`sampleRate`, `channels`, `pts` as float64, then msgpack `metadata`) followed by the raw
 * Float32 sample bytes, so samples are copied once and come back bit-exact (NaN payloads included).
 *
 * Frames nested inside other values (e.g. `{ frame }`) still round-trip exactly, through the generic typed-array path.
 *
 * Decoding treats the bytes as hostile (they come from any client, or any executor): {@link checkPayload} walks the
 * whole structure first, without allocating, and checks every declared length against the bytes actually present,
 * the nesting depth, the number of containers and the extension types, so msgpackr only ever sees a well-formed,
 * bounded value.
 *
 * @internal
 */
import { addExtension, Packr } from 'msgpackr';
import { InvalidInputError } from '../errors.js';
import type { AudioFrame } from '../media/audioFrame.js';

/** msgpack extension type of an AudioFrame (application range 0–127; msgpackr's own types avoid 0x41). */
export const AUDIO_FRAME_EXTENSION = 0x41;

/**
 * Deepest nesting of containers (arrays, maps, Sets, Errors, a frame's metadata) in one payload; the top-level value
 * is depth 0. Threat: a few bytes per level (`0x91` repeated) make a value deep enough to overflow the stack of the
 * decoder, or later of node code, re-encoding or the sandbox copy. Deeper payloads are refused at decode.
 */
export const MAX_PAYLOAD_DEPTH = 64;

/**
 * Most containers (arrays, maps, and extension values that build an object: typed arrays, Dates, Sets, RegExps,
 * frames) in one payload. Threat: an empty map is one byte on the wire but ~60 bytes of heap and a typed array ~2 µs
 * of decode, so a 4 MiB message of them would cost ~250 MB or a long event-loop stall; this caps both at a few MB and
 * ~20 ms per item.
 */
export const MAX_PAYLOAD_CONTAINERS = 10_000;

/**
 * Most entries in one payload: array elements plus map entries (a key and its value are one entry), summed over all
 * containers, Sets and frame metadata included; a typed array or an AudioFrame's samples count as one. Threat: a
 * single map of 650 000 distinct short keys fits in 4 MiB and one container, yet took ~850 ms to decode (~1.5 s of
 * event-loop stall per message). Fresh map keys are the costly part (~2 µs each: V8 builds a hidden class per new
 * key), so the bound is set by maps: 32 768 entries decode in ≤ ~80 ms on one core in the worst shape measured
 * (10 000 maps of distinct 30-character keys; ~25 ms for a flat array of 32 768 strings). Large numeric data travels
 * as a typed array or an AudioFrame, which count as one. Checked before decoding; more entries are refused.
 */
export const MAX_PAYLOAD_ENTRIES = 32_768;

/** Most channels a decoded AudioFrame may declare (sample counts must be a multiple of it). */
export const MAX_FRAME_CHANNELS = 256;

/** Highest sample rate a decoded AudioFrame may declare, Hz. */
export const MAX_FRAME_SAMPLE_RATE_HZ = 768_000;

/** Longest big integer payload (msgpackr extension 0x42), bytes: converting one costs time quadratic-ish in its size. */
export const MAX_BIGINT_BYTES = 1024;

/** Wire wrapper so that msgpackr can dispatch on a class; never seen outside this module. */
class WireAudioFrame {
  constructor(readonly frame: AudioFrame) {}
}

// Records off: each payload must decode on its own (no structure state shared between messages or peers).
// Structured clone off: its reference extensions (0x69/0x70) would let a payload build cycles.
// variableMapSize: maps take the smallest msgpack header (fixmap/map16/map32), as any decoder reads them; without it
// an object of 65 536 keys or more cannot be encoded at all.
const packr = new Packr({ moreTypes: true, useRecords: false, structuredClone: false, variableMapSize: true });

// Layout: f64 sampleRate | f64 channels | f64 pts | u32 metadata length | metadata msgpack | pad to 4 | Float32
// samples. Numbers as raw float64 so every value (even -0) comes back identical; little endian throughout.
const FIXED_HEADER_BYTES = 28;

function packFrame(wire: WireAudioFrame): Uint8Array {
  const { samples, sampleRate, channels, pts, metadata } = wire.frame;
  const meta = metadata === undefined ? EMPTY : packr.pack(metadata);
  const samplesOffset = padTo4(FIXED_HEADER_BYTES + meta.length);
  const out = new Uint8Array(samplesOffset + samples.byteLength);
  const view = new DataView(out.buffer);
  view.setFloat64(0, sampleRate, true);
  view.setFloat64(8, channels, true);
  view.setFloat64(16, pts, true);
  view.setUint32(24, meta.length, true);
  out.set(meta, FIXED_HEADER_BYTES);
  out.set(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength), samplesOffset);
  return out;
}

/** Where the parts of a frame extension lie, checked against its size. */
interface FrameLayout {
  readonly sampleRate: number;
  readonly channels: number;
  readonly pts: number;
  readonly metaLength: number;
  readonly samplesStart: number;
}

/**
 * Reads and checks a frame extension's header. Lengths are compared as plain numbers (a u32 plus a small constant
 * stays exact in a double); no bit operations, which would wrap at 2^31 and once turned a 35-byte item into a 2 GiB
 * allocation.
 */
function frameLayout(bytes: Uint8Array): FrameLayout {
  const size = bytes.byteLength;
  if (size < FIXED_HEADER_BYTES) throw new Error(`AudioFrame extension of ${size} bytes is shorter than its ${FIXED_HEADER_BYTES}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  const sampleRate = view.getFloat64(0, true);
  const channels = view.getFloat64(8, true);
  const pts = view.getFloat64(16, true);
  const metaLength = view.getUint32(24, true);
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > MAX_FRAME_SAMPLE_RATE_HZ) {
    throw new Error(`AudioFrame sampleRate must be an integer 1..${MAX_FRAME_SAMPLE_RATE_HZ} Hz, got ${sampleRate}`);
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > MAX_FRAME_CHANNELS) {
    throw new Error(`AudioFrame channels must be an integer 1..${MAX_FRAME_CHANNELS}, got ${channels}`);
  }
  if (!Number.isFinite(pts)) throw new Error(`AudioFrame pts must be a finite number of microseconds, got ${pts}`);
  if (metaLength > size - FIXED_HEADER_BYTES) {
    throw new Error(`AudioFrame metadata length ${metaLength} exceeds the ${size - FIXED_HEADER_BYTES} bytes after the header`);
  }
  const samplesStart = padTo4(FIXED_HEADER_BYTES + metaLength);
  const sampleBytes = size - samplesStart;
  if (sampleBytes < 0 || sampleBytes % 4 !== 0) throw new Error('AudioFrame extension sample bytes are not a whole number of floats');
  const sampleCount = sampleBytes / 4;
  if (sampleCount % channels !== 0) throw new Error(`AudioFrame has ${sampleCount} samples, not a multiple of its ${channels} channels`);
  return { sampleRate, channels, pts, metaLength, samplesStart };
}

/** A frame whose metadata is still to be decoded, and the metadata's bytes (a view of the received message). */
interface PendingMetadata {
  readonly frame: { metadata?: Record<string, unknown> };
  readonly bytes: Uint8Array;
}

// Set by decodePayload: frames found while msgpackr reads a message queue their metadata here, and decodePayload
// decodes it after that read ended. Decoding it inside the extension would be a nested unpack(), which copies the
// whole outer message first (msgpackr saves its state): a message of many small frames made that quadratic
// (700 KB → 10 s of event-loop stall).
let pendingMetadata: PendingMetadata[] | undefined;

function unpackFrame(bytes: Uint8Array): AudioFrame {
  const { sampleRate, channels, pts, metaLength, samplesStart } = frameLayout(bytes);
  // Copy: the received buffer may be unaligned for Float32 and is owned by the transport.
  const samples = new Float32Array((bytes.byteLength - samplesStart) / 4);
  new Uint8Array(samples.buffer).set(bytes.subarray(samplesStart));
  const frame: { -readonly [K in keyof AudioFrame]: AudioFrame[K] } = { samples, sampleRate, channels, pts };
  if (metaLength > 0) {
    const metaBytes = bytes.subarray(FIXED_HEADER_BYTES, FIXED_HEADER_BYTES + metaLength);
    if (pendingMetadata !== undefined) pendingMetadata.push({ frame, bytes: metaBytes });
    else frame.metadata = asMetadata(packr.unpack(metaBytes));
  }
  return frame;
}

function asMetadata(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('AudioFrame metadata must be a map');
  return value as Record<string, unknown>;
}

const EMPTY = new Uint8Array(0);

addExtension({ Class: WireAudioFrame, type: AUDIO_FRAME_EXTENSION, pack: packFrame, unpack: unpackFrame });

/** `n` rounded up to a multiple of 4, in plain arithmetic (exact for any length a buffer can have). */
function padTo4(n: number): number {
  const rest = n % 4;
  return rest === 0 ? n : n + 4 - rest;
}

const FRAME_KEYS = new Set(['samples', 'sampleRate', 'channels', 'pts', 'metadata']);

/**
 * A top-level value the frame extension carries exactly: an AudioFrame that {@link frameLayout} will accept, with no
 * other own keys. Anything else frame-shaped (extra keys, a sampleRate of 0.5, samples not a multiple of channels, a
 * non-map metadata) takes the generic path, which round-trips it as a plain object: the extension would drop its
 * extra keys or be refused by the receiving decoder (found by the wire fuzzing of test/abuse/wire.spec.ts).
 */
function isWireFrame(value: unknown): value is AudioFrame {
  if (typeof value !== 'object' || value === null) return false;
  const { samples, sampleRate, channels, pts, metadata } = value as Partial<AudioFrame>;
  return (
    samples instanceof Float32Array &&
    typeof sampleRate === 'number' &&
    Number.isInteger(sampleRate) &&
    sampleRate >= 1 &&
    sampleRate <= MAX_FRAME_SAMPLE_RATE_HZ &&
    typeof channels === 'number' &&
    Number.isInteger(channels) &&
    channels >= 1 &&
    channels <= MAX_FRAME_CHANNELS &&
    samples.length % channels === 0 &&
    typeof pts === 'number' &&
    Number.isFinite(pts) &&
    (metadata === undefined || (typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata))) &&
    Object.keys(value).every((key) => FRAME_KEYS.has(key))
  );
}

/** Encodes one item. Throws {@link InvalidInputError} (node `remote`) for values msgpack cannot carry (functions, symbols). */
export function encodePayload(item: unknown): Buffer {
  if (typeof item === 'function' || typeof item === 'symbol' || typeof item === 'bigint') {
    throw new InvalidInputError('remote', '', `a ${typeof item} cannot be sent to an executor`);
  }
  return packr.pack(isWireFrame(item) ? new WireAudioFrame(item) : item);
}

/**
 * Decodes one item. Throws a plain Error describing the problem for bytes that are not exactly one well-formed
 * msgpack value within the limits ({@link checkPayload}); callers wrap it with their context (the executor answers
 * INVALID_ARGUMENT).
 */
export function decodePayload(bytes: Uint8Array): unknown {
  checkPayload(bytes);
  const pending: PendingMetadata[] = [];
  pendingMetadata = pending;
  try {
    const value: unknown = packr.unpack(bytes);
    // One unpack at a time, never nested: metadata holding frames queues theirs behind it. checkPayload() proved
    // each metadata region is exactly one value.
    for (let i = 0; i < pending.length; i++) pending[i]!.frame.metadata = asMetadata(packr.unpack(pending[i]!.bytes));
    return value;
  } finally {
    pendingMetadata = undefined;
  }
}

// Extension types a payload may carry, by how their content is laid out. Not carried: Error (0x65: decoding builds
// an Error, stack capture included, per value, and its stack holds paths), records (0x72), structured-clone
// references (0x69/0x70: cycles) and bundled strings (0x62: moves the read position anywhere).
const FIXED_EXTENSIONS = new Set([0x00 /* undefined */, 0x74 /* typed array */, 0xff /* Date */, 0x42 /* big integer */, AUDIO_FRAME_EXTENSION]);
// msgpackr reads these from the msgpack value that follows the extension (its own bytes are a filler).
const PREFIX_EXTENSIONS = new Set([0x73 /* Set */, 0x78 /* RegExp */]);
/** Byte size of each element of msgpackr's typed-array codes (0x74 extension, first byte); 16 ArrayBuffer, 17 DataView. */
const TYPED_ARRAY_ELEMENT_BYTES: Readonly<Record<number, number>> = { 0: 1, 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 8: 8, 9: 8, 10: 8, 16: 1, 17: 1 };

/** State of one {@link checkPayload} walk. */
interface Scan {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly end: number;
  pos: number;
  containers: number;
  entries: number;
}

/**
 * Walks `bytes` as one msgpack value without building it and throws a plain Error at the first problem: a declared
 * length longer than the bytes left, nesting deeper than {@link MAX_PAYLOAD_DEPTH}, more than
 * {@link MAX_PAYLOAD_CONTAINERS} containers or {@link MAX_PAYLOAD_ENTRIES} entries, the reserved byte 0xC1, an extension type encodePayload never writes
 * (records, structured-clone references, bundled strings), a malformed typed array, Date, big integer or AudioFrame
 * extension, or bytes after the value. Allocates nothing; O(bytes), each byte visited once.
 */
export function checkPayload(bytes: Uint8Array): void {
  if (bytes.byteLength === 0) throw new Error('payload is empty');
  const scan: Scan = { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), end: bytes.byteLength, pos: 0, containers: 0, entries: 0 };
  scanValue(scan, 0);
  if (scan.pos !== scan.end) throw new Error(`payload has ${scan.end - scan.pos} bytes after its value (end of buffer not reached)`);
}

function need(s: Scan, n: number, what: string): void {
  if (n > s.end - s.pos) throw new Error(`${what} needs ${n} bytes but only ${s.end - s.pos} remain (unexpected end of MessagePack data)`);
}

function enter(s: Scan, depth: number): void {
  if (depth >= MAX_PAYLOAD_DEPTH) throw new Error(`payload nests deeper than ${MAX_PAYLOAD_DEPTH} levels (MAX_PAYLOAD_DEPTH)`);
  if (++s.containers > MAX_PAYLOAD_CONTAINERS) throw new Error(`payload has more than ${MAX_PAYLOAD_CONTAINERS} containers (MAX_PAYLOAD_CONTAINERS)`);
}

/** Reads an unsigned big-endian length of `size` bytes at the cursor. */
function length(s: Scan, size: 1 | 2 | 4, what: string): number {
  need(s, size, what);
  const n = size === 1 ? s.bytes[s.pos]! : size === 2 ? s.view.getUint16(s.pos) : s.view.getUint32(s.pos);
  s.pos += size;
  return n;
}

function skip(s: Scan, n: number, what: string): void {
  need(s, n, what);
  s.pos += n;
}

function scanItems(s: Scan, count: number, perItem: 1 | 2, depth: number, what: string): void {
  // Every value takes at least one byte, so a count the remaining bytes cannot hold is refused before any loop.
  need(s, count * perItem, `${what} of ${count} entries`);
  enter(s, depth);
  s.entries += count;
  if (s.entries > MAX_PAYLOAD_ENTRIES) throw new Error(`payload has more than ${MAX_PAYLOAD_ENTRIES} array elements and map entries (MAX_PAYLOAD_ENTRIES)`);
  for (let i = 0; i < count * perItem; i++) scanValue(s, depth + 1);
}

function scanValue(s: Scan, depth: number): void {
  need(s, 1, 'a value');
  const token = s.bytes[s.pos++]!;
  if (token <= 0x7f || token >= 0xe0) return; // fixints
  if (token <= 0x8f) return scanItems(s, token - 0x80, 2, depth, 'map');
  if (token <= 0x9f) return scanItems(s, token - 0x90, 1, depth, 'array');
  if (token <= 0xbf) return skip(s, token - 0xa0, 'string');
  switch (token) {
    case 0xc0: // nil
    case 0xc2: // false
    case 0xc3: // true
      return;
    case 0xc1:
      throw new Error('payload contains the reserved msgpack byte 0xC1');
    case 0xc4:
      return skip(s, length(s, 1, 'bin 8'), 'bin 8');
    case 0xc5:
      return skip(s, length(s, 2, 'bin 16'), 'bin 16');
    case 0xc6:
      return skip(s, length(s, 4, 'bin 32'), 'bin 32');
    case 0xc7:
      return scanExtension(s, length(s, 1, 'ext 8'), depth);
    case 0xc8:
      return scanExtension(s, length(s, 2, 'ext 16'), depth);
    case 0xc9:
      return scanExtension(s, length(s, 4, 'ext 32'), depth);
    case 0xca: // float 32
      return skip(s, 4, 'float 32');
    case 0xcb: // float 64
      return skip(s, 8, 'float 64');
    case 0xcc: // uint 8 … uint 64
      return skip(s, 1, 'uint 8');
    case 0xcd:
      return skip(s, 2, 'uint 16');
    case 0xce:
      return skip(s, 4, 'uint 32');
    case 0xcf:
      return skip(s, 8, 'uint 64');
    case 0xd0: // int 8 … int 64
      return skip(s, 1, 'int 8');
    case 0xd1:
      return skip(s, 2, 'int 16');
    case 0xd2:
      return skip(s, 4, 'int 32');
    case 0xd3:
      return skip(s, 8, 'int 64');
    case 0xd4: // fixext 1 … 16
      return scanExtension(s, 1, depth);
    case 0xd5:
      return scanExtension(s, 2, depth);
    case 0xd6:
      return scanExtension(s, 4, depth);
    case 0xd7:
      return scanExtension(s, 8, depth);
    case 0xd8:
      return scanExtension(s, 16, depth);
    case 0xd9:
      return skip(s, length(s, 1, 'str 8'), 'str 8');
    case 0xda:
      return skip(s, length(s, 2, 'str 16'), 'str 16');
    case 0xdb:
      return skip(s, length(s, 4, 'str 32'), 'str 32');
    case 0xdc:
      return scanItems(s, length(s, 2, 'array 16'), 1, depth, 'array 16');
    case 0xdd:
      return scanItems(s, length(s, 4, 'array 32'), 1, depth, 'array 32');
    case 0xde:
      return scanItems(s, length(s, 2, 'map 16'), 2, depth, 'map 16');
    default: // 0xdf
      return scanItems(s, length(s, 4, 'map 32'), 2, depth, 'map 32');
  }
}

/** An extension of `size` content bytes: type byte at the cursor, then the content. */
function scanExtension(s: Scan, size: number, depth: number): void {
  need(s, 1 + size, `extension of ${size} bytes`);
  const type = s.bytes[s.pos++]!;
  const start = s.pos;
  s.pos += size;
  if (PREFIX_EXTENSIONS.has(type)) {
    // Set / Error / RegExp: the content is the next value (an array), one level down.
    enter(s, depth);
    return scanValue(s, depth + 1);
  }
  if (!FIXED_EXTENSIONS.has(type)) throw new Error(`payload uses msgpack extension type 0x${type.toString(16)}, which remote payloads do not carry`);
  if (type === 0x00) return; // undefined: no object built
  enter(s, depth);
  const content = s.bytes.subarray(start, start + size);
  if (type === 0x74) {
    const element = TYPED_ARRAY_ELEMENT_BYTES[content[0] ?? -1];
    if (element === undefined) throw new Error(`typed array extension has unknown element code ${content[0]}`);
    if ((size - 1) % element !== 0) throw new Error(`typed array extension of ${size - 1} bytes is not a whole number of ${element}-byte elements`);
  } else if (type === 0xff) {
    // 1 byte: msgpackr's Invalid Date (new Date(NaN) encodes as fixext 1); any other size is malformed.
    if (size !== 1 && size !== 4 && size !== 8 && size !== 12) throw new Error(`Date extension must be 1, 4, 8 or 12 bytes, got ${size}`);
  } else if (type === 0x42) {
    if (size === 0 || size > MAX_BIGINT_BYTES) throw new Error(`big integer extension of ${size} bytes exceeds ${MAX_BIGINT_BYTES} (MAX_BIGINT_BYTES) or is empty`);
  } else if (type === AUDIO_FRAME_EXTENSION) {
    const { metaLength } = frameLayout(content);
    if (metaLength > 0) {
      const inner: Scan = { bytes: s.bytes, view: s.view, end: start + FIXED_HEADER_BYTES + metaLength, pos: start + FIXED_HEADER_BYTES, containers: s.containers, entries: s.entries };
      scanValue(inner, depth + 1);
      if (inner.pos !== inner.end) throw new Error('AudioFrame metadata is not exactly one msgpack value');
      s.containers = inner.containers;
      s.entries = inner.entries;
    }
  }
}
