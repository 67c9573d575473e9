import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, from, lastValueFrom, Subject, take, toArray } from 'rxjs';
import wavefile from 'wavefile';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInputError, InvalidParamsError, RemoteMediaError } from '../../src/errors.js';
import { fromAsyncIterable } from '../../src/flow/pullable.js';
import type { AudioFrame } from '../../src/media/audioFrame.js';
import { fromWavFile, readWavFile, toWavFile } from '../../src/media/wav.js';
import { extensibleFmtBody, fmtBody, int16Bytes, int32Bytes, riffWave } from '../fixtures/wavBytes.js';
import { concatSamples } from '../helpers/common.js';

const dir = mkdtempSync(join(tmpdir(), 'remotemedia-wav-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCounter = 0;
const tmpPath = (name: string): string => join(dir, `${fileCounter++}-${name}`);

/** A sine sweep of `frames` frames (all channels), cut into frames of `chunk` frames. */
function signal(sampleRate: number, channels: number, frames: number, chunk: number): AudioFrame[] {
  const out: AudioFrame[] = [];
  for (let start = 0; start < frames; start += chunk) {
    const n = Math.min(chunk, frames - start);
    const samples = new Float32Array(n * channels);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < channels; c++) samples[i * channels + c] = 0.9 * Math.sin((start + i) * (0.01 + 0.003 * c) + c);
    }
    out.push({ samples, sampleRate, channels, pts: (start / sampleRate) * 1e6 });
  }
  return out;
}


function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

function writeWavefile(name: string, bitDepth: string, channels: number, samples: number[]): string {
  const wav = new wavefile.WaveFile();
  wav.fromScratch(channels, 8000, bitDepth, samples);
  const path = tmpPath(name);
  writeFileSync(path, wav.toBuffer());
  return path;
}

async function errorOf(promise: Promise<unknown>): Promise<RemoteMediaError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(RemoteMediaError);
    return e as RemoteMediaError;
  }
  throw new Error('expected a rejection');
}

const openFds = (): number => readdirSync('/proc/self/fd').length;

/** The fd count once it has stopped changing: a previous test's handle may still be closing. */
async function settledFds(): Promise<number> {
  let last = openFds();
  for (let same = 0; same < 5; ) {
    await new Promise((r) => setTimeout(r, 10));
    const now = openFds();
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

async function waitForFds(expected: number): Promise<number> {
  for (let i = 0; i < 100 && openFds() !== expected; i++) await new Promise((r) => setTimeout(r, 10));
  return openFds();
}

describe('toWavFile / readWavFile round trip', () => {
  it('16-bit: writes incrementally and reads back within quantization, info emitted once', async () => {
    const frames = signal(16000, 1, 16000, 370);
    const path = tmpPath('mono16.wav');
    const infos = await lastValueFrom(from(frames).pipe(toWavFile(path), toArray()));
    expect(infos).toEqual([{ path, sampleRate: 16000, channels: 1, frames: 16000, durationMs: 1000 }]);
    expect(statSync(path).size).toBe(44 + 32000);
    const { frame, info } = await readWavFile(path);
    expect(info).toEqual(infos[0]);
    expect(frame).toMatchObject({ sampleRate: 16000, channels: 1, pts: 0 });
    expect(maxAbsDiff(frame.samples, concatSamples(frames))).toBeLessThanOrEqual(0.5 / 32768 + 1e-9);
  });

  it('32-bit float stereo: exact, and wavefile reads the header we patched', async () => {
    const frames = signal(48000, 2, 4800, 960);
    const path = tmpPath('stereo32f.wav');
    const info = await lastValueFrom(from(frames).pipe(toWavFile(path, { bitDepth: '32f' })));
    expect(info).toEqual({ path, sampleRate: 48000, channels: 2, frames: 4800, durationMs: 100 });
    const { frame } = await readWavFile(path);
    expect(frame.samples).toEqual(concatSamples(frames));
    const bytes = readFileSync(path);
    expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8);
    const parsed = new wavefile.WaveFile(bytes);
    expect(parsed.bitDepth).toBe('32f');
    expect(Float32Array.from(parsed.getSamples(true, Float64Array))).toEqual(concatSamples(frames));
  });

  it('16-bit copy through fromWavFile → toWavFile is bit-identical in the sample data', async () => {
    const copy = tmpPath('copy.wav');
    await lastValueFrom(fromWavFile('assets/sample-speech.wav').pipe(toWavFile(copy)));
    const original = new wavefile.WaveFile(readFileSync('assets/sample-speech.wav'));
    const copied = new wavefile.WaveFile(readFileSync(copy));
    expect(copied.getSamples(true, Int16Array)).toEqual(original.getSamples(true, Int16Array));
  });

  it('an empty stream writes a valid empty file', async () => {
    const path = tmpPath('empty.wav');
    const info = await lastValueFrom(from([] as AudioFrame[]).pipe(toWavFile(path)));
    expect(info).toEqual({ path, sampleRate: 16000, channels: 1, frames: 0, durationMs: 0 });
    expect((await readWavFile(path)).frame.samples.length).toBe(0);
  });
});

describe('fromWavFile', () => {
  it('emits chunkMs frames (20 ms of 16 kHz = 320), pts in µs, last chunk partial', async () => {
    const path = tmpPath('chunks.wav');
    const frames = signal(16000, 1, 16160, 1000);
    await lastValueFrom(from(frames).pipe(toWavFile(path)));
    const chunks = await lastValueFrom(fromWavFile(path).pipe(toArray()));
    expect(chunks.length).toBe(51);
    expect(chunks.slice(0, 50).every((c) => c.samples.length === 320)).toBe(true);
    expect(chunks[50]!.samples.length).toBe(160);
    expect(chunks.map((c) => c.pts)).toEqual(chunks.map((_, i) => i * 20_000));
    expect(maxAbsDiff(concatSamples(chunks), concatSamples(frames))).toBeLessThanOrEqual(0.5 / 32768 + 1e-9);
    const chunks30 = await lastValueFrom(fromWavFile(path, { chunkMs: 30 }).pipe(toArray()));
    expect(chunks30.map((c) => c.samples.length)).toEqual([...Array<number>(33).fill(480), 320]);
  });

  it('decodes 8-bit unsigned, 24-bit and 32-bit int, 64-bit float files written by wavefile', async () => {
    const cases: Array<[string, number[], number[]]> = [
      ['8', [128, 192, 0, 255], [0, 0.5, -1, 127 / 128]],
      ['24', [0, 4194304, -8388608, 8388607, -1], [0, 0.5, -1, 8388607 / 8388608, -1 / 8388608]],
      ['32', [0, 1073741824, -2147483648, 2147483647], [0, 0.5, -1, 2147483647 / 2147483648]],
      ['64', [0, 0.25, -0.75, 1], [0, 0.25, -0.75, 1]],
    ];
    for (const [bitDepth, raw, expected] of cases) {
      const path = writeWavefile(`wf${bitDepth}.wav`, bitDepth, 1, raw);
      const [frame] = await lastValueFrom(fromWavFile(path, { chunkMs: 1000 }).pipe(toArray()));
      expect(frame, bitDepth).toEqual({ samples: Float32Array.from(expected), sampleRate: 8000, channels: 1, pts: 0 });
    }
  });

  it('decodes interleaved stereo 24-bit', async () => {
    const path = writeWavefile('st24.wav', '24', 2, [4194304, -4194304, 0, 8388607]);
    const { frame, info } = await readWavFile(path);
    expect(info.frames).toBe(2);
    expect(frame.samples).toEqual(Float32Array.from([0.5, -0.5, 0, 8388607 / 8388608]));
  });

  it('skips LIST and other chunks, honours odd-size padding, finds fmt after them', async () => {
    const path = tmpPath('chunks-extra.wav');
    writeFileSync(path, riffWave([
      { id: 'LIST', body: Uint8Array.from([73, 78, 70, 79, 73, 78, 65]) }, // 7 bytes: odd, padded
      { id: 'fmt ', body: fmtBody(1, 1, 8000, 16) },
      { id: 'junk', body: new Uint8Array(3) },
      { id: 'data', body: int16Bytes([16384, -16384, 0, 32767, -32768]) },
      { id: 'cue ', body: new Uint8Array(4) },
    ]));
    const { frame } = await readWavFile(path);
    expect(frame.samples).toEqual(Float32Array.from([0.5, -0.5, 0, 32767 / 32768, -1]));
    const chunks = await lastValueFrom(fromWavFile(path, { chunkMs: 0.25 }).pipe(toArray()));
    expect(chunks.map((c) => c.samples.length)).toEqual([2, 2, 1]);
  });

  it('decodes WAVE_FORMAT_EXTENSIBLE with PCM (24 valid bits in 32) and float sub-formats', async () => {
    const pcm = tmpPath('ext-pcm.wav');
    writeFileSync(pcm, riffWave([{ id: 'fmt ', body: extensibleFmtBody(1, 2, 8000, 32, 24) }, { id: 'data', body: int32Bytes([1 << 30, -(1 << 30)]) }]));
    expect((await readWavFile(pcm)).frame.samples).toEqual(Float32Array.from([0.5, -0.5]));
    const float = tmpPath('ext-float.wav');
    const data = new Uint8Array(8);
    new DataView(data.buffer).setFloat32(0, 0.25, true);
    new DataView(data.buffer).setFloat32(4, -2, true);
    writeFileSync(float, riffWave([{ id: 'fmt ', body: extensibleFmtBody(3, 1, 8000, 32, 32) }, { id: 'data', body: data }]));
    // Floats pass through unclamped.
    expect((await readWavFile(float)).frame.samples).toEqual(Float32Array.from([0.25, -2]));
  });

  it('falls back to wavefile for a-law and mu-law', async () => {
    for (const codec of ['alaw', 'mulaw'] as const) {
      const wav = new wavefile.WaveFile();
      const pcm = [0, 8000, -8000, 16000, -16000, 30000];
      wav.fromScratch(1, 8000, '16', pcm);
      if (codec === 'alaw') wav.toALaw();
      else wav.toMuLaw();
      const path = tmpPath(`${codec}.wav`);
      writeFileSync(path, wav.toBuffer());
      const frames = await lastValueFrom(fromWavFile(path, { chunkMs: 0.5 }).pipe(toArray()));
      expect(frames.map((f) => f.samples.length)).toEqual([4, 2]);
      expect(frames[1]!.pts).toBe(500);
      const decoded = concatSamples(frames);
      pcm.forEach((x, i) => expect(Math.abs(decoded[i]! - x / 32768), codec).toBeLessThan(0.03));
    }
  });

  it('reads a partial file left by an interrupted toWavFile (unknown-length sizes) to its end', async () => {
    const path = tmpPath('partial.wav');
    const input = new Subject<AudioFrame>();
    const frames = signal(8000, 1, 800, 100);
    const before = await settledFds();
    const subscription = input.pipe(toWavFile(path)).subscribe();
    for (const f of frames.slice(0, 3)) input.next(f);
    await new Promise((r) => setTimeout(r, 50));
    expect(openFds()).toBe(before + 1);
    subscription.unsubscribe();
    expect(await waitForFds(before)).toBe(before);
    const bytes = readFileSync(path);
    expect(bytes.readUInt32LE(40)).toBe(0xffffffff);
    const { frame } = await readWavFile(path);
    expect(frame.samples.length).toBe(300);
  });
});

describe('errors', () => {
  it('missing file → IO naming the path', async () => {
    const path = join(dir, 'nope.wav');
    const error = await errorOf(lastValueFrom(fromWavFile(path)));
    expect(error.code).toBe('IO');
    expect(error.message).toContain(`fromWavFile(${path}): cannot open`);
    expect((await errorOf(readWavFile(path))).code).toBe('IO');
  });

  it('not a WAV, no data chunk, unsupported format → INVALID_INPUT naming the path and the problem', async () => {
    const text = tmpPath('text.wav');
    writeFileSync(text, 'hello, this is not audio at all');
    const noData = tmpPath('nodata.wav');
    writeFileSync(noData, riffWave([{ id: 'fmt ', body: fmtBody(1, 1, 8000, 16) }]));
    const adpcm = tmpPath('msadpcm.wav');
    writeFileSync(adpcm, riffWave([{ id: 'fmt ', body: fmtBody(2, 1, 8000, 4) }, { id: 'data', body: new Uint8Array(8) }]));
    const tiny = tmpPath('tiny.wav');
    writeFileSync(tiny, 'RIF');
    const cases: Array<[string, string]> = [
      [text, "not a WAV file (starts with 'hell'"],
      [noData, "no 'data' chunk found"],
      [adpcm, 'unsupported audio format 0x0002'],
      [tiny, 'not a WAV file (only 3 bytes)'],
    ];
    for (const [path, problem] of cases) {
      const error = await errorOf(lastValueFrom(fromWavFile(path)));
      expect(error.code, path).toBe('INVALID_INPUT');
      expect(error.message).toContain(`fromWavFile(${path}): ${problem}`);
      const error2 = await errorOf(readWavFile(path));
      expect(error2.message).toContain(`readWavFile(${path}): ${problem}`);
    }
  });

  it('bad options throw InvalidParamsError naming the field', () => {
    expect(() => fromWavFile('x.wav', { chunkMs: 0 })).toThrow(InvalidParamsError);
    expect(() => fromWavFile('x.wav', { chunkMs: Number.NaN })).toThrow(/'chunkMs'/);
    expect(() => toWavFile('x.wav', { bitDepth: '24' as '16' })).toThrow(/'bitDepth'/);
  });

  it('toWavFile: a sampleRate change mid-stream is InvalidInputError and the file is closed', async () => {
    const before = await settledFds();
    const path = tmpPath('change.wav');
    const frames = [...signal(16000, 1, 320, 320), ...signal(8000, 1, 160, 160)];
    const error = await errorOf(lastValueFrom(from(frames).pipe(toWavFile(path))));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe('sampleRate');
    expect(error.message).toContain('changed mid-stream from 16000 Hz × 1 ch to 8000 Hz × 1 ch');
    expect(await waitForFds(before)).toBe(before);
  });

  it('toWavFile: a non-AudioFrame is INVALID_INPUT; an unwritable path is IO', async () => {
    const bad = await errorOf(lastValueFrom(from([{ samples: [0] }] as unknown as AudioFrame[]).pipe(toWavFile(tmpPath('bad.wav')))));
    expect(bad.code).toBe('INVALID_INPUT');
    const path = join(dir, 'no-such-dir', 'out.wav');
    const io = await errorOf(lastValueFrom(from(signal(8000, 1, 10, 10)).pipe(toWavFile(path))));
    expect(io.code).toBe('IO');
    expect(io.message).toContain(`toWavFile(${path}): cannot open for writing`);
  });
});

describe('resources and flow control', () => {
  it('fromWavFile closes its file handle on early unsubscribe and on complete', async () => {
    const before = await settledFds();
    const firstThree = await lastValueFrom(fromWavFile('assets/sample-speech.wav').pipe(take(3), toArray()));
    expect(firstThree.length).toBe(3);
    expect(await waitForFds(before)).toBe(before);
    await firstValueFrom(fromWavFile('assets/sample-speech.wav'));
    expect(await waitForFds(before)).toBe(before);
    await lastValueFrom(fromWavFile('assets/sample-speech.wav').pipe(toArray()));
    expect(await waitForFds(before)).toBe(before);
  });

  it('toWavFile pauses a pullable source while writes are pending (bounded memory)', async () => {
    const path = tmpPath('bounded.wav');
    const frames = signal(16000, 1, 320 * 300, 320);
    let maxAhead = 0;
    async function* produce(): AsyncGenerator<AudioFrame> {
      for (let i = 0; i < frames.length; i++) {
        let written = 0;
        try {
          written = Math.max(0, (statSync(path).size - 44) / 640);
        } catch {
          // Not created yet.
        }
        maxAhead = Math.max(maxAhead, i - written);
        yield frames[i]!;
      }
    }
    const info = await lastValueFrom(fromAsyncIterable(produce()).pipe(toWavFile(path)));
    expect(info.frames).toBe(320 * 300);
    // At most 8 queued writes (+ the frame in hand); without the demand gate the source runs ~300 frames ahead.
    expect(maxAhead).toBeLessThanOrEqual(10);
  });
});
