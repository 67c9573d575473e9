/**
 * The pure half of WAV support: RIFF/WAVE header parsing over a positional `read` callback, PCM/float sample decoding
 * and encoding, and header building for streaming writes. No file handles here; `src/media/wav.ts` owns the I/O.
 *
 * Sample scaling follows `fromInt16` in `audioFrame.ts`: an n-bit signed integer is divided by 2^(n-1), 8-bit unsigned is
 * `(x - 128) / 128`; IEEE floats pass through unscaled and unclamped (a float file may legitimately exceed ±1).
 *
 * @internal
 * @module
 */
import wavefile from 'wavefile';
import { RemoteMediaError } from '../../errors.js';
import { toInt16 } from '../audioFrame.js';

/** `wFormatTag` values this module knows by name. */
const FORMAT_PCM = 0x0001;
const FORMAT_FLOAT = 0x0003;
const FORMAT_ALAW = 0x0006;
const FORMAT_MULAW = 0x0007;
const FORMAT_IMA_ADPCM = 0x0011;
const FORMAT_EXTENSIBLE = 0xfffe;

/** Largest `fmt ` chunk body we read; the longest standard one (WAVE_FORMAT_EXTENSIBLE) is 40 bytes. */
const MAX_FMT_BYTES = 1024;

/** How samples are stored, for the formats decoded here without wavefile. */
export interface SampleEncoding {
  readonly kind: 'int' | 'float';
  /** Container size of one sample in bytes (1, 2, 3, 4 for int; 4, 8 for float). */
  readonly bytesPerSample: number;
}

/** Where the audio of a WAV file is and how it is stored. */
export interface WavLayout {
  readonly sampleRate: number;
  readonly channels: number;
  /** Bytes per sample frame (all channels). */
  readonly blockAlign: number;
  readonly dataOffset: number;
  /** Bytes of sample data, clamped to what the file holds and rounded down to whole blocks. */
  readonly dataBytes: number;
  /** The sample encoding, or `undefined` for a format only wavefile decodes (a-law, mu-law, IMA ADPCM). */
  readonly encoding: SampleEncoding | undefined;
  /** `wFormatTag`, resolved through WAVE_FORMAT_EXTENSIBLE. */
  readonly formatTag: number;
}

/** Reads `length` bytes at `position`; may return fewer at end of file. */
export type ReadAt = (position: number, length: number) => Promise<Uint8Array>;

/** Error for a file that is not a WAV we can read; `name` identifies the file in the message. */
export function invalidWav(name: string, problem: string): RemoteMediaError {
  return new RemoteMediaError('INVALID_INPUT', `${name}: ${problem}`);
}

function fourCC(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);
}

/**
 * Walks the RIFF chunks of a WAV file: finds `fmt ` and `data`, skips every other chunk (LIST, fact, cue, ...) and
 * honours the pad byte after odd-sized chunks. A `data` size beyond the end of the file (a truncated file, or the
 * 0xFFFFFFFF "unknown length" a streaming writer leaves when it was interrupted) is clamped to the file.
 * RIFX (big-endian) and RF64 files are reported with `encoding: undefined` so the caller decodes them with wavefile.
 */
export async function parseWavLayout(read: ReadAt, fileSize: number, name: string): Promise<WavLayout> {
  const riff = await read(0, 12);
  if (riff.length < 12) throw invalidWav(name, `not a WAV file (only ${fileSize} bytes)`);
  const container = fourCC(riff, 0);
  if (fourCC(riff, 8) !== 'WAVE' || !['RIFF', 'RIFX', 'RF64'].includes(container)) {
    throw invalidWav(name, `not a WAV file (starts with '${fourCC(riff, 0)}', expected 'RIFF....WAVE')`);
  }
  let fmt: Uint8Array | undefined;
  let data: { offset: number; size: number } | undefined;
  let position = 12;
  while (position + 8 <= fileSize && (fmt === undefined || data === undefined)) {
    const header = await read(position, 8);
    if (header.length < 8) break;
    const id = fourCC(header, 0);
    const size = new DataView(header.buffer, header.byteOffset, 8).getUint32(4, container !== 'RIFX');
    const body = position + 8;
    if (id === 'fmt ') fmt = await read(body, Math.min(size, MAX_FMT_BYTES));
    if (id === 'data') {
      data = { offset: body, size: Math.min(size, fileSize - body) };
      // A data chunk of unknown length runs to the end of the file: nothing after it can be located.
      if (size === 0xffffffff) break;
    }
    position = body + size + (size % 2);
  }
  if (fmt === undefined) throw invalidWav(name, "no 'fmt ' chunk found");
  if (data === undefined) throw invalidWav(name, "no 'data' chunk found");
  return layoutFromFmt(fmt, data, container, name);
}

function layoutFromFmt(fmt: Uint8Array, data: { offset: number; size: number }, container: string, name: string): WavLayout {
  if (fmt.length < 16) throw invalidWav(name, `'fmt ' chunk is ${fmt.length} bytes, expected at least 16`);
  const view = new DataView(fmt.buffer, fmt.byteOffset, fmt.length);
  const le = container !== 'RIFX';
  let formatTag = view.getUint16(0, le);
  const channels = view.getUint16(2, le);
  const sampleRate = view.getUint32(4, le);
  const blockAlign = view.getUint16(12, le);
  const bitsPerSample = view.getUint16(14, le);
  if (formatTag === FORMAT_EXTENSIBLE) {
    if (fmt.length < 26) throw invalidWav(name, 'WAVE_FORMAT_EXTENSIBLE without a sub-format GUID');
    formatTag = view.getUint16(24, le);
  }
  if (channels === 0) throw invalidWav(name, 'channel count is 0');
  if (sampleRate === 0) throw invalidWav(name, 'sample rate is 0');
  if (blockAlign === 0) throw invalidWav(name, 'block align is 0');
  const dataBytes = data.size - (data.size % blockAlign);
  const base = { sampleRate, channels, blockAlign, dataOffset: data.offset, dataBytes, formatTag };
  if (container !== 'RIFF') return { ...base, encoding: undefined };
  if (formatTag === FORMAT_ALAW || formatTag === FORMAT_MULAW || formatTag === FORMAT_IMA_ADPCM) return { ...base, encoding: undefined };
  if (formatTag !== FORMAT_PCM && formatTag !== FORMAT_FLOAT) {
    throw invalidWav(name, `unsupported audio format 0x${formatTag.toString(16).padStart(4, '0')} (supported: PCM, IEEE float, a-law, mu-law, IMA ADPCM)`);
  }
  const bytesPerSample = blockAlign / channels;
  const kind = formatTag === FORMAT_FLOAT ? 'float' : 'int';
  const sizes = kind === 'float' ? [4, 8] : [1, 2, 3, 4];
  if (!sizes.includes(bytesPerSample) || Math.ceil(bitsPerSample / 8) !== bytesPerSample) {
    throw invalidWav(name, `unsupported ${kind === 'float' ? 'float' : 'PCM'} layout: ${bitsPerSample} bits per sample, block align ${blockAlign} for ${channels} channel(s)`);
  }
  return { ...base, encoding: { kind, bytesPerSample } };
}

/** Decodes little-endian sample bytes (a whole number of samples) to floats, scaled as described in the module doc. */
export function decodeSamples(bytes: Uint8Array, encoding: SampleEncoding): Float32Array {
  const { kind, bytesPerSample } = encoding;
  const count = Math.floor(bytes.length / bytesPerSample);
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (kind === 'float') {
    for (let i = 0; i < count; i++) out[i] = bytesPerSample === 4 ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
    return out;
  }
  switch (bytesPerSample) {
    case 1:
      for (let i = 0; i < count; i++) out[i] = (bytes[i]! - 128) / 128;
      break;
    case 2:
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true) / 32768;
      break;
    case 3:
      for (let i = 0; i < count; i++) {
        const o = i * 3;
        // Shift the top byte into the sign bit of a 32-bit int, then back down: sign-extends the 24-bit value.
        out[i] = (((bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16)) << 8) >> 8) / 8388608;
      }
      break;
    default:
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true) / 2147483648;
  }
  return out;
}

/** A whole file decoded by wavefile: the fallback for RIFX, RF64, a-law, mu-law and IMA ADPCM. */
export function decodeWithWavefile(bytes: Uint8Array, name: string): { samples: Float32Array; sampleRate: number; channels: number } {
  const wav = new wavefile.WaveFile();
  try {
    wav.fromBuffer(bytes);
    const { audioFormat } = wav.fmt as { audioFormat: number };
    if (audioFormat === FORMAT_ALAW) wav.fromALaw('16');
    else if (audioFormat === FORMAT_MULAW) wav.fromMuLaw('16');
    else if (audioFormat === FORMAT_IMA_ADPCM) wav.fromIMAADPCM('16');
  } catch (e) {
    throw invalidWav(name, `cannot decode: ${e instanceof Error ? e.message : String(e)}`);
  }
  const { numChannels, sampleRate } = wav.fmt as { numChannels: number; sampleRate: number };
  const raw = wav.getSamples(true, Float64Array);
  const depth = wav.bitDepth;
  const samples = new Float32Array(raw.length);
  if (depth === '32f' || depth === '64') {
    for (let i = 0; i < raw.length; i++) samples[i] = raw[i]!;
  } else {
    const bits = Number.parseInt(depth, 10);
    if (!Number.isInteger(bits) || bits < 2 || bits > 32) throw invalidWav(name, `unsupported bit depth '${depth}'`);
    // wavefile returns 8-bit as unsigned (0..255) and wider depths as signed integers.
    const offset = bits === 8 ? 128 : 0;
    const scale = 2 ** (bits - 1);
    for (let i = 0; i < raw.length; i++) samples[i] = (raw[i]! - offset) / scale;
  }
  return { samples, sampleRate, channels: numChannels };
}

/** Bit depths {@link wavHeader} and {@link encodeSamples} write. */
export type WavBitDepth = '16' | '32f';

/** Byte offsets of the size fields a streaming writer patches once the length is known. */
export interface WavSizeFields {
  readonly riffSize: number;
  readonly dataSize: number;
  /** The `fact` chunk's frame count (float files only). */
  readonly factFrames: number | undefined;
  /** Header length: sample data starts here. */
  readonly headerBytes: number;
}

/** Where the size fields of a header written by {@link wavHeader} are. */
export function wavSizeFields(bitDepth: WavBitDepth): WavSizeFields {
  // PCM: RIFF(12) + fmt(8+16) + data(8) = 44. Float: RIFF(12) + fmt(8+18) + fact(8+4) + data(8) = 58.
  return bitDepth === '16'
    ? { riffSize: 4, dataSize: 40, factFrames: undefined, headerBytes: 44 }
    : { riffSize: 4, dataSize: 54, factFrames: 46, headerBytes: 58 };
}

/**
 * A canonical WAV header. Float files get the 18-byte `fmt ` and the `fact` chunk the spec asks of non-PCM formats.
 * Pass `frames: undefined` for the "unknown length" placeholder (0xFFFFFFFF) of a file still being written.
 */
export function wavHeader(format: { sampleRate: number; channels: number; bitDepth: WavBitDepth }, frames: number | undefined): Uint8Array {
  const { sampleRate, channels, bitDepth } = format;
  const fields = wavSizeFields(bitDepth);
  const bytesPerSample = bitDepth === '16' ? 2 : 4;
  const header = new Uint8Array(fields.headerBytes);
  const view = new DataView(header.buffer);
  const ascii = (offset: number, text: string): void => {
    for (let i = 0; i < 4; i++) header[offset + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, bitDepth === '16' ? 16 : 18, true);
  view.setUint16(20, bitDepth === '16' ? FORMAT_PCM : FORMAT_FLOAT, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * bytesPerSample, true);
  view.setUint16(32, channels * bytesPerSample, true);
  view.setUint16(34, bytesPerSample * 8, true);
  if (bitDepth === '32f') {
    view.setUint16(36, 0, true);
    ascii(38, 'fact');
    view.setUint32(42, 4, true);
  }
  ascii(fields.dataSize - 4, 'data');
  patchSizes(header, fields, frames === undefined ? undefined : frames * channels * bytesPerSample, frames);
  return header;
}

/** Writes the RIFF, data and fact sizes into `header` (the first `headerBytes` of the file); `undefined` = unknown. */
export function patchSizes(header: Uint8Array, fields: WavSizeFields, dataBytes: number | undefined, frames: number | undefined): void {
  const view = new DataView(header.buffer, header.byteOffset, header.length);
  view.setUint32(fields.riffSize, dataBytes === undefined ? 0xffffffff : fields.headerBytes - 8 + dataBytes, true);
  view.setUint32(fields.dataSize, dataBytes ?? 0xffffffff, true);
  if (fields.factFrames !== undefined) view.setUint32(fields.factFrames, frames ?? 0xffffffff, true);
}

/**
 * Encodes float samples little-endian. '16' uses `toInt16` (×32768, rounded, clipped): the exact inverse of the
 * decoding, so a 16-bit file copied through {@link decodeSamples} and back is bit-identical. '32f' stores the floats
 * as they are.
 */
export function encodeSamples(samples: Float32Array, bitDepth: WavBitDepth): Uint8Array {
  const bytes = new Uint8Array(samples.length * (bitDepth === '16' ? 2 : 4));
  const view = new DataView(bytes.buffer);
  if (bitDepth === '32f') {
    for (let i = 0; i < samples.length; i++) view.setFloat32(i * 4, samples[i]!, true);
    return bytes;
  }
  const pcm = toInt16(samples);
  for (let i = 0; i < pcm.length; i++) view.setInt16(i * 2, pcm[i]!, true);
  return bytes;
}
