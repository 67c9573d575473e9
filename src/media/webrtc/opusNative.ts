/**
 * Direct use of opusscript's WASM libopus, bypassing its JS wrapper (`opusscript/index.js` 0.1.1), which writes
 * every PCM buffer at TWICE the address it allocated: it takes a `HEAPU16.subarray(pointer, …)` of a byte pointer
 * and hands the view's `byteOffset` (2 × pointer) to the native side. That memory belongs to nobody, so once the
 * heap holds enough codecs other allocations live there and get overwritten — in a server with a few peers, encoders
 * then fail with "Bad argument" (found by bench/webrtc.ts at 8 peers). Here every buffer is allocated at the size
 * the native code really touches, and data goes exactly where the pointer says.
 *
 * The native side (`OpusScriptHandler`) stores PCM with one byte per 16-bit slot: `_encode(in, bytes, out, frame)`
 * reads `bytes` little-endian PCM bytes from 16-bit slots at `in` (compacting in place; it reads up to 2 × `bytes`
 * slots), `_decode(in, bytes, out)` writes each decoded sample as two 16-bit slots (low byte, high byte).
 * @module
 */
import { createRequire } from 'node:module';

interface NativeHandler {
  _encode(input: number, bytes: number, output: number, frameSize: number): number;
  _decode(input: number, bytes: number, output: number): number;
  _encoder_ctl(ctl: number, arg: number): number;
}

interface NativeModule {
  readonly HEAPU8: Uint8Array;
  readonly HEAPU16: Uint16Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  OpusScriptHandler: (new (rate: number, channels: number, application: number) => NativeHandler) & { destroy_handler(handler: NativeHandler): void };
}

/** Largest frame libopus handles per channel: 120 ms at 48 kHz. */
const MAX_FRAME_SAMPLES = 5760;
/** Largest Opus packet (3 × 1276 bytes). */
export const MAX_PACKET_BYTES = 3828;
/** `OPUS_SET_BITRATE_REQUEST`. */
const SET_BITRATE = 4002;

let native: NativeModule | undefined;

// One WASM instance for this module's codecs (separate from opusscript's own, which is never loaded here).
function load(): NativeModule {
  if (!native) {
    const factory = createRequire(import.meta.url)('opusscript/build/opusscript_native_wasm.js') as () => NativeModule;
    native = factory();
  }
  return native;
}

/** One libopus encoder + decoder pair with correctly sized buffers. `delete()` frees everything. */
export class NativeOpus {
  private readonly m = load();
  private readonly handler: NativeHandler;
  private readonly pcmIn: number;
  private readonly packetIn: number;
  private readonly packetOut: number;
  private readonly pcmOut: number;

  constructor(
    sampleRate: number,
    private readonly channels: number,
    application: number,
  ) {
    this.handler = new this.m.OpusScriptHandler(sampleRate, channels, application);
    const pcmBytes = MAX_FRAME_SAMPLES * channels * 2;
    // Encode input: one 16-bit slot per PCM byte, and the native loop reads up to twice that many slots.
    this.pcmIn = this.m._malloc(pcmBytes * 2 * 2);
    this.packetIn = this.m._malloc(MAX_PACKET_BYTES);
    this.packetOut = this.m._malloc(MAX_PACKET_BYTES);
    // Decode output: two 16-bit slots per sample.
    this.pcmOut = this.m._malloc(MAX_FRAME_SAMPLES * channels * 2 * 2);
  }

  setBitrate(bitsPerSecond: number): void {
    const status = this.handler._encoder_ctl(SET_BITRATE, bitsPerSecond);
    if (status < 0) throw new Error(`opus: set bitrate failed (${status})`);
  }

  /** Encodes `pcm` (interleaved Int16, `frameSize` samples per channel) into one packet. */
  encode(pcm: Int16Array, frameSize: number): Buffer {
    const bytes = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    this.m.HEAPU16.set(bytes, this.pcmIn >> 1);
    const length = this.handler._encode(this.pcmIn, bytes.length, this.packetOut, frameSize);
    if (length < 0) throw new Error(`opus: encode failed (${length})`);
    return Buffer.from(this.m.HEAPU8.slice(this.packetOut, this.packetOut + length));
  }

  /** Decodes one packet into interleaved Int16 PCM. */
  decode(packet: Uint8Array): Int16Array {
    if (packet.length > MAX_PACKET_BYTES) throw new Error(`opus: packet of ${packet.length} bytes exceeds ${MAX_PACKET_BYTES}`);
    this.m.HEAPU8.set(packet, this.packetIn);
    const frames = this.handler._decode(this.packetIn, packet.length, this.pcmOut);
    if (frames < 0) throw new Error(`opus: decode failed (${frames})`);
    const slots = this.m.HEAPU16;
    const base = this.pcmOut >> 1;
    const out = new Int16Array(frames * this.channels);
    for (let i = 0; i < out.length; i++) out[i] = (slots[base + 2 * i + 1]! << 8) | slots[base + 2 * i]!;
    return out;
  }

  delete(): void {
    this.m.OpusScriptHandler.destroy_handler(this.handler);
    for (const pointer of [this.pcmIn, this.packetIn, this.packetOut, this.pcmOut]) this.m._free(pointer);
  }
}
