/**
 * Payload codec: every item crossing `remote()` is one msgpack value (msgpackr with `moreTypes`, so typed arrays and
 * Dates round-trip; a Map arrives as a plain object). A top-level `AudioFrame` travels as one extension record: a
 * fixed binary header (`sampleRate`, `channels`, `pts` as float64, then msgpack `metadata`) followed by the raw
 * Float32 sample bytes, so samples are copied once and come back bit-exact (NaN payloads included).
 *
 * Frames nested inside other values (e.g. `{ frame }`) still round-trip exactly, through the generic typed-array path.
 *
 * @internal
 */
import { addExtension, C1, Packr } from 'msgpackr';
import { InvalidInputError } from '../errors.js';
import type { AudioFrame } from '../media/audioFrame.js';

/** msgpack extension type of an AudioFrame (application range 0–127; msgpackr's own types avoid 0x41). */
export const AUDIO_FRAME_EXTENSION = 0x41;

/** Wire wrapper so that msgpackr can dispatch on a class; never seen outside this module. */
class WireAudioFrame {
  constructor(readonly frame: AudioFrame) {}
}

// Records off: each payload must decode on its own (no structure state shared between messages or peers).
const packr = new Packr({ moreTypes: true, useRecords: false });

// Layout: f64 sampleRate | f64 channels | f64 pts | u32 metadata length | metadata msgpack | pad to 4 | Float32
// samples. Numbers as raw float64 so every value (even -0) comes back identical; little endian throughout.
const FIXED_HEADER_BYTES = 28;

function packFrame(wire: WireAudioFrame): Uint8Array {
  const { samples, sampleRate, channels, pts, metadata } = wire.frame;
  const meta = metadata === undefined ? EMPTY : packr.pack(metadata);
  const samplesOffset = align4(FIXED_HEADER_BYTES + meta.length);
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

function unpackFrame(bytes: Uint8Array): AudioFrame {
  if (bytes.byteLength < FIXED_HEADER_BYTES) throw new Error('AudioFrame extension is shorter than its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sampleRate = view.getFloat64(0, true);
  const channels = view.getFloat64(8, true);
  const pts = view.getFloat64(16, true);
  const metaLength = view.getUint32(24, true);
  const start = align4(FIXED_HEADER_BYTES + metaLength);
  const byteLength = bytes.byteLength - start;
  if (byteLength < 0 || byteLength % 4 !== 0) throw new Error('AudioFrame extension sample bytes are not a whole number of floats');
  const metadata = metaLength === 0 ? undefined : (packr.unpack(bytes.subarray(FIXED_HEADER_BYTES, FIXED_HEADER_BYTES + metaLength)) as Record<string, unknown>);
  // Copy: the received buffer may be unaligned for Float32 and is owned by the transport.
  const samples = new Float32Array(byteLength / 4);
  new Uint8Array(samples.buffer).set(bytes.subarray(start));
  return metadata === undefined ? { samples, sampleRate, channels, pts } : { samples, sampleRate, channels, pts, metadata };
}

const EMPTY = new Uint8Array(0);

addExtension({ Class: WireAudioFrame, type: AUDIO_FRAME_EXTENSION, pack: packFrame, unpack: unpackFrame });

function align4(n: number): number {
  return (n + 3) & ~3;
}

function isAudioFrameLike(value: unknown): value is AudioFrame {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Partial<AudioFrame>).samples instanceof Float32Array &&
    typeof (value as Partial<AudioFrame>).sampleRate === 'number' &&
    typeof (value as Partial<AudioFrame>).channels === 'number' &&
    typeof (value as Partial<AudioFrame>).pts === 'number'
  );
}

/** Encodes one item. Throws {@link InvalidInputError} (node `remote`) for values msgpack cannot carry (functions, symbols). */
export function encodePayload(item: unknown): Buffer {
  if (typeof item === 'function' || typeof item === 'symbol' || typeof item === 'bigint') {
    throw new InvalidInputError('remote', '', `a ${typeof item} cannot be sent to an executor`);
  }
  return packr.pack(isAudioFrameLike(item) ? new WireAudioFrame(item) : item);
}

/**
 * Decodes one item. Throws a plain Error describing the problem for bytes that are not exactly one msgpack value;
 * callers wrap it with their context (the executor answers INVALID_ARGUMENT).
 */
export function decodePayload(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) throw new Error('payload is empty');
  const value: unknown = packr.unpack(bytes);
  // 0xC1 is "never used" in msgpack; msgpackr decodes it to a marker object instead of throwing.
  if (value === C1) throw new Error('payload contains the reserved msgpack byte 0xC1');
  return value;
}
