/**
 * The executor image, run with podman (`npm run test:container`; the image comes from executor/container/setup.sh).
 * Starts the container with the environment of executor/k8s/deployment.yaml (token from a generated secret), waits
 * for gRPC health SERVING, runs a remote() pipeline and a proxy call from the host, checks the process runs as
 * the non-root image user and that /metrics answers, then stops it with SIGTERM while a stream is in flight: the
 * stream completes (drain) and the container exits 0. Writes image size and timings to bench/RESULTS.md.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, Subject, toArray } from 'rxjs';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeResultsSection } from '../../bench/lib.js';
import { checkHealth } from '../../bin/cli/health.js';
import type { AudioFrame } from '../../src/media/audioFrame.js';
import { fromWavFile } from '../../src/media/wav.js';
import { energyVad } from '../../src/operators/audio/energyVad.js';
import { resample } from '../../src/operators/audio/resample.js';
import { calculator } from '../../src/operators/core/calculator.js';
import { connect, executorStatus, remote } from '../../src/remote/index.js';
import { ROOT } from '../remote/helpers/executors.js';

const IMAGE = process.env['REMOTEMEDIA_TEST_IMAGE'] ?? 'localhost/remotemedia-executor:test';
const PODMAN = join(ROOT, 'executor/container/podman.sh');
const NAME = `remotemedia-test-${process.pid}`;
const TOKEN = randomBytes(24).toString('hex');

function podman(args: string[]): string {
  return execFileSync(PODMAN, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** `podman logs`: the container's stdout and stderr (pino logs go to stderr). */
function containerLogs(): string {
  const result = spawnSync(PODMAN, ['logs', NAME], { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`;
}

function podmanAsync(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(PODMAN, args, { encoding: 'utf8' }, (e, out, err) => (e ? reject(new Error(`${e.message}\n${err}`)) : resolve(out.trim()))));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Plain env of the Deployment (the Secret-backed token is set separately). */
function deploymentEnv(): Record<string, string> {
  const doc = parseAllDocuments(readFileSync(join(ROOT, 'executor/k8s/deployment.yaml'), 'utf8'))[0]!.toJS() as {
    spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
  };
  return Object.fromEntries(doc.spec.template.spec.containers[0]!.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
}

describe('executor container (podman)', () => {
  let grpcPort = 0;
  let metricsPort = 0;
  let address = '';
  let servingAfterMs = 0;

  beforeAll(async () => {
    grpcPort = await freePort();
    metricsPort = await freePort();
    address = `127.0.0.1:${grpcPort}`;
    const env = { ...deploymentEnv(), REMOTEMEDIA_PORT: String(grpcPort), REMOTEMEDIA_METRICS_PORT: String(metricsPort), REMOTEMEDIA_SHUTDOWN_GRACE_MS: '10000', REMOTEMEDIA_MODULES: '/ext/counterModule.mjs' };
    const started = performance.now();
    podman([
      'run', '-d', '--name', NAME, '--network', 'host', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024',
      '-v', `${join(ROOT, 'test/container')}:/ext:ro`,
      ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
      '-e', `REMOTEMEDIA_TOKEN=${TOKEN}`,
      IMAGE,
    ]);
    for (;;) {
      if ((await checkHealth(address, { timeoutMs: 1000 })).status === 'SERVING') break;
      if (performance.now() - started > 60_000) throw new Error(`container not SERVING within 60 s:\n${containerLogs()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    servingAfterMs = performance.now() - started;
  });

  afterAll(() => {
    try {
      if (process.env['REMOTEMEDIA_TEST_DUMP_LOGS'] !== undefined) console.error(containerLogs());
      podman(['rm', '-f', '-t', '0', NAME]);
    } catch {
      // already gone
    }
  });

  it('serves health, a remote() pipeline and a proxy call from the host; rejects a missing token', async () => {
    expect(await checkHealth(address, { service: 'remotemedia.v1.RemoteMedia' })).toEqual({ status: 'SERVING' });
    const wav = join(ROOT, 'assets/sample-speech.wav');
    const local = await lastValueFrom(fromWavFile(wav).pipe(resample({ rate: 8000 }), energyVad(), toArray()));
    const remoteOut = await lastValueFrom(fromWavFile(wav).pipe(remote<AudioFrame, AudioFrame>({ address, token: TOKEN }, resample({ rate: 8000 }), energyVad()), toArray()));
    expect(remoteOut.length).toBe(local.length);
    expect(remoteOut.map((f) => f.metadata)).toEqual(local.map((f) => f.metadata));
    await expect(lastValueFrom(fromWavFile(wav).pipe(remote({ address }, energyVad())))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });

    const client = await connect({ address, token: TOKEN });
    try {
      const counter = (await client.createProxy('Counter', 10)) as unknown as { increment(by?: number): Promise<number> };
      expect(await counter.increment()).toBe(11);
      expect(await counter.increment(5)).toBe(16);
    } finally {
      await client.close();
    }
  });

  it('runs as the non-root image user and exports metrics', async () => {
    const status = podman(['exec', NAME, 'cat', '/proc/1/status']);
    expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe('10001');
    expect(podman(['exec', NAME, 'id', '-u'])).toBe('10001');
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(Number(/^remotemedia_streams_total (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^remotemedia_node_items_in_total\{node_type="audio.energyVad"\} \d+/m);
  });

  it('SIGTERM drains: the in-flight stream completes, health stops passing, exit code 0', async () => {
    const input = new Subject<number>();
    const output = lastValueFrom(input.pipe(remote<number, number>({ address, token: TOKEN }, calculator({ operation: 'add', operand: 1 })), toArray()));
    input.next(1);
    await new Promise<void>((resolve) => {
      const wait = async (): Promise<void> => ((await executorStatus({ address, token: TOKEN })).activeStreams === 1 ? resolve() : void setTimeout(() => void wait(), 50));
      void wait();
    });
    const exited = podmanAsync(['wait', NAME]);
    podman(['kill', '--signal', 'TERM', NAME]);
    await new Promise((r) => setTimeout(r, 500));
    // Draining: the listener is closed (new connections, such as a kubelet probe, are refused; the open connection
    // got GOAWAY, so it takes no new calls either) while the open stream goes on.
    expect((await checkHealth(address, { timeoutMs: 1000 })).status).toBe('UNREACHABLE');
    input.next(2);
    input.next(3);
    input.complete();
    expect(await output).toEqual([2, 3, 4]);
    expect(await exited).toBe('0');
    const logs = containerLogs();
    expect(logs).toContain('"msg":"executor draining"');
    expect(logs).toContain('"msg":"executor stopped"');
  });

  afterAll(() => {
    const bytes = Number(podman(['image', 'inspect', '--format', '{{.Size}}', IMAGE]));
    let buildSeconds = '';
    try {
      buildSeconds = readFileSync(join(tmpdir(), 'remotemedia-image-build-seconds'), 'utf8').trim();
    } catch {
      // setup.sh not run in this session
    }
    writeResultsSection(
      'container',
      [
        `Image \`executor/Dockerfile\` built with podman from the local base \`localhost/node-base:20\` (debootstrap bookworm minbase + host Node ${process.version}); measured by \`npm run test:container\` on ${new Date().toISOString().slice(0, 10)}.`,
        '',
        '| measure | value |',
        '|---|---|',
        `| image size (podman image inspect) | ${(bytes / 1024 / 1024).toFixed(0)} MiB |`,
        ...(buildSeconds === '' ? [] : [`| image build in this run (layer cache as found) | ${buildSeconds} s |`]),
        `| container start → gRPC health SERVING | ${(servingAfterMs / 1000).toFixed(1)} s |`,
      ].join('\n'),
    );
  });
});
