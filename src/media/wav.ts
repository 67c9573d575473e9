/**
 * WAV files at the edges of a pipeline: {@link fromWavFile} (a pullable source), {@link toWavFile} (a streaming sink
 * operator) and {@link readWavFile} (a whole file at once).
 *
 * Decoded without wavefile (read chunk by chunk): PCM 8-bit unsigned, 16/24/32-bit signed, IEEE float 32/64, also
 * inside WAVE_FORMAT_EXTENSIBLE. Decoded by reading the whole file through wavefile: a-law, mu-law, IMA ADPCM, RIFX
 * and RF64. Integers are scaled to [-1, 1) like `fromInt16`; floats pass through unclamped.
 *
 * Errors are {@link RemoteMediaError}s whose message starts with the function and path, e.g.
 * `fromWavFile(a.wav): no 'data' chunk found`: code `IO` when the file cannot be opened, read or written,
 * `INVALID_INPUT` when it is not a WAV file or uses an unsupported format.
 *
 * @module
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Observable, type OperatorFunction } from 'rxjs';
import { InvalidInputError, InvalidParamsError, RemoteMediaError } from '../errors.js';
import { DemandGate, withDemand } from '../flow/demand.js';
import { pullable } from '../flow/pullable.js';
import { checkAudioFrame, MICROS_PER_SECOND, type AudioFrame } from './audioFrame.js';
import {
  decodeSamples, decodeWithWavefile, encodeSamples, parseWavLayout, wavHeader, wavSizeFields,
  type WavBitDepth, type WavLayout,
} from './internal/wavCodec.js';

/** Options of {@link fromWavFile}. */
export interface FromWavFileOptions {
  /** Duration of each emitted frame in milliseconds (the last one may be shorter). Default: 20 ms. */
  readonly chunkMs?: number;
}

/** Options of {@link toWavFile}. */
export interface ToWavFileOptions {
  /**
   * Sample format written: `'16'` (16-bit PCM: ×32768, rounded, clipped, so a 16-bit file copied through
   * {@link fromWavFile} and `toWavFile` keeps its exact samples) or `'32f'` (32-bit IEEE float). Default: `'16'`.
   */
  readonly bitDepth?: WavBitDepth;
}

/** What a WAV file holds; returned by {@link readWavFile} and emitted by {@link toWavFile}. */
export interface WavFileInfo {
  /** The path as given. */
  readonly path: string;
  /** Hz. */
  readonly sampleRate: number;
  readonly channels: number;
  /** Sample frames per channel. */
  readonly frames: number;
  /** Duration in milliseconds (frames / sampleRate × 1000, not rounded). */
  readonly durationMs: number;
}

/** Default of {@link FromWavFileOptions.chunkMs}, in milliseconds. */
const DEFAULT_CHUNK_MS = 20;

/**
 * Most writes {@link toWavFile} lets wait for the disk: while this many are queued it withholds demand from a
 * pullable source upstream, so file → file copies hold a few frames, not the whole input, in memory.
 */
const MAX_PENDING_WRITES = 8;

/** RIFF sizes are 32-bit: the data of one file cannot exceed this many bytes (with its header). */
const MAX_RIFF_BYTES = 0xffffffff;

/** Format used for the header of a stream that completed without any frame (there was nothing to take it from). */
const EMPTY_STREAM_FORMAT = { sampleRate: 16000, channels: 1 } as const;

function ioError(name: string, what: string, e: unknown): RemoteMediaError {
  if (e instanceof RemoteMediaError) return e;
  return new RemoteMediaError('IO', `${name}: ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

async function openFile(path: string, flags: 'r' | 'w', name: string): Promise<FileHandle> {
  try {
    return await open(path, flags);
  } catch (e) {
    throw ioError(name, flags === 'r' ? 'cannot open' : 'cannot open for writing', e);
  }
}

/** Reads up to `length` bytes at `position` into `buffer`, looping over short reads; returns the bytes read. */
async function readAt(handle: FileHandle, position: number, length: number, buffer = Buffer.allocUnsafe(length)): Promise<Uint8Array> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

async function openWav(path: string, name: string): Promise<{ handle: FileHandle; layout: WavLayout; size: number }> {
  const handle = await openFile(path, 'r', name);
  try {
    const { size } = await handle.stat();
    const layout = await parseWavLayout((position, length) => readAt(handle, position, length), size, name);
    return { handle, layout, size };
  } catch (e) {
    await handle.close();
    throw ioError(name, 'cannot read', e);
  }
}

function info(path: string, sampleRate: number, channels: number, frames: number): WavFileInfo {
  return { path, sampleRate, channels, frames, durationMs: (frames * 1000) / sampleRate };
}

async function* readChunks(path: string, chunkMs: number): AsyncGenerator<AudioFrame> {
  const name = `fromWavFile(${path})`;
  const { handle, layout, size } = await openWav(path, name);
  try {
    const { sampleRate, channels, blockAlign, encoding } = layout;
    const framesPerChunk = Math.max(1, Math.round((sampleRate * chunkMs) / 1000));
    if (encoding === undefined) {
      const whole = decodeWithWavefile(await readAt(handle, 0, size), name);
      const step = framesPerChunk * whole.channels;
      for (let start = 0; start < whole.samples.length; start += step) {
        const pts = (start / whole.channels / whole.sampleRate) * MICROS_PER_SECOND;
        yield { samples: whole.samples.slice(start, start + step), sampleRate: whole.sampleRate, channels: whole.channels, pts };
      }
      return;
    }
    const totalFrames = layout.dataBytes / blockAlign;
    // One read buffer for the whole file: every chunk is decoded into its own Float32Array before the next read.
    const buffer = Buffer.allocUnsafe(framesPerChunk * blockAlign);
    for (let start = 0; start < totalFrames; start += framesPerChunk) {
      const wanted = Math.min(framesPerChunk, totalFrames - start) * blockAlign;
      const bytes = await readAt(handle, layout.dataOffset + start * blockAlign, wanted, buffer).catch((e: unknown) => {
        throw ioError(name, 'read failed', e);
      });
      const whole = bytes.length - (bytes.length % blockAlign);
      if (whole === 0) return; // the file shrank while we read it: stop at what is there
      yield { samples: decodeSamples(bytes.subarray(0, whole), encoding), sampleRate, channels, pts: (start / sampleRate) * MICROS_PER_SECOND };
      if (whole < wanted) return;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Reads a WAV file as a stream of {@link AudioFrame}s of `chunkMs` each (the last may be shorter), `pts` in µs from
 * the frame index (exact, not rounded). A pullable source: it reads the next chunk only when the nearest async
 * boundary downstream has room, so a long file is never held in memory (except formats decoded by wavefile, see the
 * module doc). The file is opened on subscribe and closed on complete, error or unsubscribe.
 *
 * @param path - File to read.
 * @param options - {@link FromWavFileOptions}; `chunkMs` default 20 ms.
 * @throws {@link InvalidParamsError} (synchronously) when `chunkMs` is not a positive number.
 * @returns A cold observable; errors with code `IO` (cannot open/read) or `INVALID_INPUT` (not a WAV / unsupported).
 * @example
 * ```ts
 * await lastValueFrom(fromWavFile('in.wav', { chunkMs: 30 }).pipe(energyVad(), toWavFile('out.wav')));
 * ```
 */
export function fromWavFile(path: string, options: FromWavFileOptions = {}): Observable<AudioFrame> {
  const chunkMs = options.chunkMs ?? DEFAULT_CHUNK_MS;
  if (typeof chunkMs !== 'number' || !Number.isFinite(chunkMs) || chunkMs <= 0) {
    throw new InvalidParamsError('fromWavFile', 'chunkMs', `must be a positive number of milliseconds, got ${String(chunkMs)}`);
  }
  return pullable(() => readChunks(path, chunkMs), `fromWavFile(${path})`);
}

/**
 * Reads a whole WAV file into one {@link AudioFrame} (`pts` 0). Prefer {@link fromWavFile} for long files.
 * @throws (rejects with) {@link RemoteMediaError} code `IO` or `INVALID_INPUT`, message naming the path.
 */
export async function readWavFile(path: string): Promise<{ frame: AudioFrame; info: WavFileInfo }> {
  const name = `readWavFile(${path})`;
  const { handle, layout, size } = await openWav(path, name);
  try {
    const { encoding } = layout;
    const decoded = encoding === undefined
      ? decodeWithWavefile(await readAt(handle, 0, size), name)
      : { samples: decodeSamples(await readAt(handle, layout.dataOffset, layout.dataBytes), encoding), sampleRate: layout.sampleRate, channels: layout.channels };
    const frame: AudioFrame = { ...decoded, pts: 0 };
    return { frame, info: info(path, decoded.sampleRate, decoded.channels, decoded.samples.length / decoded.channels) };
  } catch (e) {
    throw ioError(name, 'read failed', e);
  } finally {
    await handle.close();
  }
}

/**
 * Writes the {@link AudioFrame}s it receives to a WAV file, incrementally: the header goes out with "unknown length"
 * sizes (0xFFFFFFFF), samples are appended as frames arrive and the RIFF/data sizes are patched on complete. When
 * the source completes it emits one {@link WavFileInfo} and completes, so `await lastValueFrom(src.pipe(toWavFile(p)))`
 * resolves once the file is complete and closed.
 *
 * Flow control: an async boundary. At most 8 writes wait for the disk; beyond that a pullable source upstream
 * (e.g. {@link fromWavFile}) is paused. A push source is never dropped from: its frames queue.
 *
 * On error or unsubscribe the file handle is closed as soon as the write in flight settles (so possibly just after
 * the error reached the subscriber) and the partial file is left as it is, with the "unknown length" sizes (readers
 * such as sox, ffmpeg and {@link fromWavFile} read it to the end of the file).
 * A stream without frames writes a valid empty file (16 kHz mono header).
 *
 * Errors: `INVALID_INPUT` ({@link InvalidInputError}) for a non-AudioFrame or a sampleRate/channels change
 * mid-stream; `IO` when the file cannot be written or would exceed the 4 GiB RIFF limit.
 *
 * @param path - File to create (truncated if it exists).
 * @param options - {@link ToWavFileOptions}; `bitDepth` default `'16'`.
 * @throws {@link InvalidParamsError} (synchronously) for an unknown `bitDepth`.
 * @example
 * ```ts
 * const { durationMs } = await lastValueFrom(frames$.pipe(toWavFile('out.wav', { bitDepth: '32f' })));
 * ```
 */
export function toWavFile(path: string, options: ToWavFileOptions = {}): OperatorFunction<AudioFrame, WavFileInfo> {
  const bitDepth = options.bitDepth ?? '16';
  if (bitDepth !== '16' && bitDepth !== '32f') {
    throw new InvalidParamsError('toWavFile', 'bitDepth', `must be '16' or '32f', got ${JSON.stringify(bitDepth)}`);
  }
  const name = `toWavFile(${path})`;
  const fields = wavSizeFields(bitDepth);
  return (source) =>
    new Observable<WavFileInfo>((subscriber) => {
      let handle: FileHandle | undefined;
      let format: { sampleRate: number; channels: number } | undefined;
      let dataBytes = 0;
      let pending = 0;
      let stopped = false;
      let chain: Promise<void> = Promise.resolve();
      const gate = new DemandGate(() => pending < MAX_PENDING_WRITES);

      const stop = (error?: unknown): void => {
        if (stopped) return;
        stopped = true;
        gate.close();
        if (error !== undefined) subscriber.error(error);
      };
      // Every file operation runs in order on one promise chain; after a failure or unsubscribe the rest are skipped.
      const enqueue = (what: string, op: (h: FileHandle) => Promise<void>): void => {
        pending++;
        chain = chain.then(async () => {
          try {
            if (!stopped) await op(handle!);
          } catch (e) {
            stop(ioError(name, what, e));
          } finally {
            pending--;
            gate.notify();
          }
        });
      };
      const writeAt = (bytes: Uint8Array, position: number) => async (h: FileHandle) => {
        await h.write(bytes, 0, bytes.length, position);
      };

      pending++;
      chain = openFile(path, 'w', name).then(
        (h) => { handle = h; },
        (e: unknown) => { stop(e); },
      ).finally(() => { pending--; gate.notify(); });

      const subscription = withDemand(gate, () => source.subscribe({
        next(value) {
          if (stopped) return;
          try {
            const frame = checkAudioFrame(value, 'toWavFile');
            if (format === undefined) {
              format = { sampleRate: frame.sampleRate, channels: frame.channels };
              enqueue('header write failed', writeAt(wavHeader({ ...format, bitDepth }, undefined), 0));
            } else if (frame.sampleRate !== format.sampleRate || frame.channels !== format.channels) {
              const field = frame.sampleRate !== format.sampleRate ? 'sampleRate' : 'channels';
              throw new InvalidInputError('toWavFile', field, `changed mid-stream from ${format.sampleRate} Hz × ${format.channels} ch to ${frame.sampleRate} Hz × ${frame.channels} ch (${path})`);
            }
            const bytes = encodeSamples(frame.samples, bitDepth);
            if (fields.headerBytes - 8 + dataBytes + bytes.length > MAX_RIFF_BYTES) {
              throw new RemoteMediaError('IO', `${name}: the data exceeds the 4 GiB limit of a RIFF WAV file`);
            }
            enqueue('write failed', writeAt(bytes, fields.headerBytes + dataBytes));
            dataBytes += bytes.length;
          } catch (e) {
            stop(e);
          }
        },
        error(e: unknown) {
          stop(e);
        },
        complete() {
          const { sampleRate, channels } = format ?? EMPTY_STREAM_FORMAT;
          const frames = dataBytes / (bitDepth === '16' ? 2 : 4) / channels;
          enqueue('finishing failed', async (h) => {
            await writeAt(wavHeader({ sampleRate, channels, bitDepth }, frames), 0)(h);
            await h.close();
            handle = undefined;
            subscriber.next(info(path, sampleRate, channels, frames));
            subscriber.complete();
          });
        },
      }));

      return () => {
        subscription.unsubscribe();
        stop();
        // Closing waits for the write in flight; the partial file stays on disk (documented above).
        chain = chain.then(() => handle?.close()).catch(() => undefined);
      };
    });
}
