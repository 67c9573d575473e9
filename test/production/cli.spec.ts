/**
 * The `remotemedia` command line as a user runs it (child processes under tsx): nodes --json, run (local and
 * remote pipelines over a WAV file, clear errors), health, bench, and the executor's env equivalents, metrics line
 * and JSON logs with stream ids.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExecutor, type Executor } from '../../executor/index.js';
import { fromAsyncIterable } from '../../src/flow/pullable.js';
import { readWavFile } from '../../src/media/wav.js';
import { passThrough } from '../../src/operators/core/passThrough.js';
import { remote } from '../../src/remote/index.js';
import { ROOT } from '../remote/helpers/executors.js';

const CLI = [process.execPath, '--import', 'tsx', 'bin/remotemedia.ts'];
const WAV = join(ROOT, 'assets/sample-speech.wav');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(CLI[0]!, [...CLI.slice(1), ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

describe('remotemedia CLI', () => {
  let executor: Executor;
  let dir: string;
  beforeAll(async () => {
    executor = await startExecutor({ port: 0, logLevel: 'silent' });
    dir = mkdtempSync(join(tmpdir(), 'rm-cli-'));
  });
  afterAll(() => executor.close());

  it('nodes --json lists the registry', async () => {
    const { code, stdout } = await cli(['nodes', '--json']);
    expect(code).toBe(0);
    const types = (JSON.parse(stdout) as { type: string }[]).map((n) => n.type);
    expect(types).toEqual(expect.arrayContaining(['audio.energyVad', 'core.passThrough', 'text.textTransform']));
  });

  it('run: a local pipeline over a WAV file writes the output WAV and prints a summary', async () => {
    const pipeline = join(dir, 'local.yaml');
    writeFileSync(pipeline, 'input:\n  chunkMs: 20\nnodes:\n  - type: audio.resample\n    params: { rate: 8000 }\n  - type: audio.energyVad\n');
    const out = join(dir, 'out.wav');
    const { code, stdout, stderr } = await cli(['run', pipeline, WAV, '-o', out]);
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout) as Record<string, unknown>;
    const input = await readWavFile(WAV);
    expect(summary).toMatchObject({ remote: null, itemsIn: Math.ceil(input.info.durationMs / 20) });
    expect(summary['audioMs']).toBe(Math.round(input.info.durationMs));
    expect(stderr).toContain(`${input.info.durationMs / 20 > 0 ? Math.ceil(input.info.durationMs / 20) : 0}/${Math.ceil(input.info.durationMs / 20)} in`);
    const written = await readWavFile(out);
    expect(written.info.sampleRate).toBe(8000);
    expect(Math.abs(written.info.durationMs - input.info.durationMs)).toBeLessThan(5);
  });

  it('run: a pipeline with a remote: section runs on the executor and writes JSON lines', async () => {
    const pipeline = join(dir, 'remote.json');
    writeFileSync(pipeline, JSON.stringify({ remote: { address: executor.address, window: 8 }, nodes: [{ type: 'text.textTransform', params: { operation: 'uppercase' } }] }));
    const input = join(dir, 'in.txt');
    writeFileSync(input, 'hello\nworld\n\nagain\n');
    const out = join(dir, 'out.jsonl');
    const before = executor.status().totalStreams;
    const { code, stdout, stderr } = await cli(['run', pipeline, input, '-o', out, '--no-progress']);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ remote: executor.address, itemsIn: 3, itemsOut: 3 });
    expect(readFileSync(out, 'utf8')).toBe('"HELLO"\n"WORLD"\n"AGAIN"\n');
    expect(executor.status().totalStreams).toBe(before + 1);
  });

  it('run: a bad pipeline file fails with file:line:column and the field', async () => {
    const pipeline = join(dir, 'bad.yaml');
    writeFileSync(pipeline, 'nodes:\n  - type: audio.resample\n    params: { rate: -5 }\n');
    const { code, stderr } = await cli(['run', pipeline, WAV]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${pipeline}:3:21: nodes[0].params.rate:`);
  });

  it('health: SERVING exits 0 (with --status numbers), an unreachable address exits 2', async () => {
    const ok = await cli(['health', executor.address, '--status']);
    expect(ok.code).toBe(0);
    const parsed = JSON.parse(ok.stdout) as { status: string; executor: { activeStreams: number; draining: boolean } };
    expect(parsed.status).toBe('SERVING');
    expect(parsed.executor).toMatchObject({ activeStreams: 0, draining: false });
    const down = await cli(['health', '127.0.0.1:1', '--timeout-ms', '1000']);
    expect(down.code).toBe(2);
    expect(JSON.parse(down.stdout)).toMatchObject({ status: 'UNREACHABLE' });
  });

  it('bench: measures the workload against an executor', async () => {
    const { code, stdout, stderr } = await cli(['bench', '--address', executor.address, '--items', '600', '--latency-items', '100']);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as { itemsPerSec: number; p50Us: number; p99Us: number };
    expect(result.itemsPerSec).toBeGreaterThan(100);
    expect(result.p50Us).toBeGreaterThan(0);
    expect(result.p99Us).toBeGreaterThanOrEqual(result.p50Us);
  });

  it('executor: env equivalents of the flags, a metrics URL on the ready line, JSON logs carrying stream ids', async () => {
    const child = spawn(CLI[0]!, [...CLI.slice(1), 'executor'], {
      cwd: ROOT,
      env: { ...process.env, REMOTEMEDIA_PORT: '0', REMOTEMEDIA_METRICS_PORT: '0', REMOTEMEDIA_LOG_LEVEL: 'debug', REMOTEMEDIA_MAX_STREAMS: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const logs: Record<string, unknown>[] = [];
      createInterface({ input: child.stderr! }).on('line', (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
      const ready = await new Promise<{ listening: string; metrics: string }>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as { listening: string; metrics: string }));
        child.once('exit', (code) => reject(new Error(`executor exited ${code}`)));
      });
      expect(ready.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const out = await lastValueFrom(fromAsyncIterable([1, 2, 3]).pipe(remote({ address: ready.listening }, passThrough()), toArray()));
      expect(out).toEqual([1, 2, 3]);
      const text = await (await fetch(ready.metrics)).text();
      expect(text).toMatch(/^remotemedia_streams_total 1$/m);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(logs.find((l) => l['msg'] === 'executor listening')).toMatchObject({ level: 30, service: 'remotemedia-executor' });
      const opened = logs.find((l) => l['msg'] === 'stream opened');
      expect(opened).toMatchObject({ stream: 1, nodes: ['core.passThrough'] });
      expect(typeof opened!['peer']).toBe('string');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
