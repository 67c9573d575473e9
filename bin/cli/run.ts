/**
 * `remotemedia run <pipeline.yaml|json> <input> [-o out]`: runs a declared pipeline over a file with a progress bar
 * (stderr) and a one-line JSON summary (stdout).
 *
 * Input by extension: `.wav` → AudioFrames of `input.chunkMs` (pullable: the file is read as the pipeline consumes
 * it); `.jsonl` → one JSON value per line; anything else → one string per line.
 * Output (`-o`) by extension: `.wav` → the output AudioFrames as 16-bit PCM; otherwise JSON lines (AudioFrames as
 * `{ pts, sampleRate, channels, frames, metadata }`). Without `-o` the outputs are counted, not written.
 *
 * @module
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { lastValueFrom, tap, type Observable } from 'rxjs';
import { frameCount, type AudioFrame } from '../../src/media/audioFrame.js';
import { parseWavLayout } from '../../src/media/internal/wavCodec.js';
import { fromWavFile, toWavFile } from '../../src/media/wav.js';
import { fromAsyncIterable } from '../../src/flow/pullable.js';
import { loadPipelineFile, pipelineOperator, type PipelineFile } from '../../src/pipelineFile.js';
import { importModules } from './modules.js';

interface RunFlags {
  output?: string;
  token?: string;
  module: string[];
  progress: boolean;
}

/** What `run` prints on stdout when done. */
export interface RunSummary {
  pipeline: string;
  input: string;
  output: string | null;
  remote: string | null;
  itemsIn: number;
  itemsOut: number;
  /** Audio duration of the input, ms (WAV input only). */
  audioMs: number | null;
  elapsedMs: number;
  /** audioMs / elapsedMs (WAV input only): how many times faster than real time. */
  realtimeFactor: number | null;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function addRunCommand(program: Command): void {
  program
    .command('run')
    .description('Run a declared pipeline (YAML/JSON list of node specs, optional remote: section) over a file')
    .argument('<pipeline>', 'pipeline file (.yaml, .yml, .json)')
    .argument('<input>', 'input file: .wav (audio frames), .jsonl (JSON values) or text (lines)')
    .option('-o, --output <file>', 'write outputs: .wav (audio) or JSON lines')
    .option('--token <token>', 'executor token for a remote: section (default: env REMOTEMEDIA_TOKEN)')
    .option('--module <path>', 'import a module that registers extra nodes (repeatable)', collect, [])
    .option('--no-progress', 'no progress bar')
    .action(async (pipelinePath: string, input: string, flags: RunFlags) => {
      await importModules(flags.module);
      const pipeline = await loadPipelineFile(pipelinePath);
      const summary = await runPipeline(pipeline, input, { ...flags, token: flags.token ?? process.env['REMOTEMEDIA_TOKEN'] });
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
}

async function runPipeline(pipeline: PipelineFile, input: string, flags: RunFlags): Promise<RunSummary> {
  const isWav = extname(input).toLowerCase() === '.wav';
  const total = isWav ? await wavFrameTotal(input, pipeline.chunkMs) : undefined;
  const bar = new SingleBar({
    format: `${pipeline.source} {bar} {value}/{total} in | {out} out | {duration_formatted}`,
    noTTYOutput: true,
    notTTYSchedule: 1000,
    stream: process.stderr,
    hideCursor: false,
  });
  const show = flags.progress;
  if (show) bar.start(total ?? 0, 0, { out: 0 });
  let itemsIn = 0;
  let itemsOut = 0;
  let audioMicros = 0;
  const started = performance.now();
  const source: Observable<unknown> = isWav ? fromWavFile(input, { chunkMs: pipeline.chunkMs }) : lines(input, extname(input).toLowerCase() === '.jsonl');
  const counted = source.pipe(
    tap((item) => {
      itemsIn++;
      if (isWav) audioMicros += (frameCount(item as AudioFrame) / (item as AudioFrame).sampleRate) * 1e6;
      if (show) bar.update(itemsIn, { out: itemsOut });
    }),
    pipelineOperator<unknown, unknown>(pipeline, { token: flags.token }),
    tap(() => itemsOut++),
  );
  try {
    await writeOutputs(counted, flags.output);
  } finally {
    if (show) {
      if (total === undefined) bar.setTotal(itemsIn);
      bar.update(itemsIn, { out: itemsOut });
      bar.stop();
    }
  }
  const elapsedMs = performance.now() - started;
  const audioMs = isWav ? audioMicros / 1000 : null;
  const remote = pipeline.remote === undefined ? null : (pipeline.remote.addresses ?? [pipeline.remote.address ?? '']).join(',');
  return {
    pipeline: pipeline.source,
    input,
    output: flags.output ?? null,
    remote,
    itemsIn,
    itemsOut,
    audioMs: audioMs === null ? null : Math.round(audioMs),
    elapsedMs: Math.round(elapsedMs),
    realtimeFactor: audioMs === null ? null : Math.round((audioMs / Math.max(elapsedMs, 1)) * 10) / 10,
  };
}

async function writeOutputs(items: Observable<unknown>, output: string | undefined): Promise<void> {
  if (output === undefined) {
    await lastValueFrom(items, { defaultValue: undefined });
    return;
  }
  if (extname(output).toLowerCase() === '.wav') {
    await lastValueFrom((items as Observable<AudioFrame>).pipe(toWavFile(output)), { defaultValue: undefined });
    return;
  }
  const file = createWriteStream(output);
  try {
    await lastValueFrom(items.pipe(tap((item) => file.write(`${JSON.stringify(toJsonLine(item))}\n`))), { defaultValue: undefined });
  } finally {
    await new Promise<void>((resolve, reject) => file.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }
}

function toJsonLine(item: unknown): unknown {
  if (typeof item === 'object' && item !== null && (item as AudioFrame).samples instanceof Float32Array) {
    const frame = item as AudioFrame;
    return { pts: frame.pts, sampleRate: frame.sampleRate, channels: frame.channels, frames: frameCount(frame), metadata: frame.metadata ?? null };
  }
  return item;
}

/** Lines of a text file as a pullable source (JSON-parsed for .jsonl), empty lines skipped. */
function lines(path: string, json: boolean): Observable<unknown> {
  return fromAsyncIterable(
    (async function* () {
      const reader = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
      let n = 0;
      for await (const line of reader) {
        n++;
        if (line.trim() === '') continue;
        if (!json) yield line;
        else {
          try {
            yield JSON.parse(line) as unknown;
          } catch (e) {
            throw new Error(`${path}:${n}: not JSON: ${(e as Error).message}`, { cause: e });
          }
        }
      }
    })(),
  );
}

/** Number of `chunkMs` frames `fromWavFile` will emit, from the header (the file is not read). */
async function wavFrameTotal(path: string, chunkMs: number): Promise<number | undefined> {
  try {
    const { size } = await stat(path);
    const handle = await open(path, 'r');
    try {
      const layout = await parseWavLayout(
        async (position, length) => {
          const buffer = Buffer.alloc(length);
          const { bytesRead } = await handle.read(buffer, 0, length, position);
          return buffer.subarray(0, bytesRead);
        },
        size,
        path,
      );
      const frames = layout.dataBytes / layout.blockAlign;
      const perChunk = Math.max(1, Math.round((layout.sampleRate * chunkMs) / 1000));
      return Math.ceil(frames / perChunk);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined; // fromWavFile reports the real problem
  }
}
