/**
 * `remote()` against raw grpc-js, measured in one run on loopback, both servers in one child process (this script
 * with `--serve`), so every round trip crosses processes as it would to a real executor:
 * (a) raw grpc-js bidi echo of the same payload bytes (pre-encoded; no msgpack, no RxJS, no credits);
 * (b) `remote({ address }, passThrough())`.
 * For a 20 ms audio frame (16 kHz mono, 320 samples) and a small JSON value: throughput (items/s, pipelined echo)
 * and round-trip latency (one item in flight, p50/p99 in µs). Targets (issue 4 §5): p50 ≤ 250 µs and throughput
 * ≥ 0.5× raw grpc-js. One JSON line per scenario on stdout; writes the `remote` section of bench/RESULTS.md.
 *   npm run bench:remote            npx tsx bench/remote.ts [throughputItems] [latencyItems]
 */
import { execSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { credentials } from '@grpc/grpc-js';
import { Subject, type Observable } from 'rxjs';
import { startExecutor } from '../executor/index.js';
import { fromAsyncIterable } from '../src/flow/pullable.js';
import { passThrough } from '../src/operators/core/passThrough.js';
import { encodePayload } from '../src/remote/codec.js';
import { RemoteMediaClient } from '../src/remote/gen/remotemedia.js';
import { remote } from '../src/remote/index.js';
import { percentile, writeResultsSection } from './lib.js';
import { startRawEcho } from './rawEcho.js';

const SERVE = process.argv[2] === '--serve';
const THROUGHPUT_ITEMS = Number((SERVE ? undefined : process.argv[2]) ?? 20_000);
const LATENCY_ITEMS = Number((SERVE ? undefined : process.argv[3]) ?? 3_000);
const WINDOW = 64;

interface Measure {
  itemsPerSec: number;
  p50Us: number;
  p99Us: number;
}

async function rawThroughput(client: RemoteMediaClient, payload: Buffer, n: number): Promise<number> {
  const call = client.stream();
  const start = process.hrtime.bigint();
  const done = new Promise<void>((resolve) => {
    let received = 0;
    call.on('data', () => {
      if (++received === n) resolve();
    });
  });
  for (let seq = 0; seq < n; seq++) {
    if (!call.write({ data: { seq, payload } })) await new Promise((r) => call.once('drain', r));
  }
  await done;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  call.end();
  return n / seconds;
}

async function rawLatency(client: RemoteMediaClient, payload: Buffer, n: number): Promise<number[]> {
  const call = client.stream();
  const times: number[] = [];
  let resolveNext: () => void = () => undefined;
  call.on('data', () => resolveNext());
  for (let seq = 0; seq < n; seq++) {
    const start = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      resolveNext = resolve;
      call.write({ data: { seq, payload } });
    });
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  call.end();
  return times;
}

async function remoteThroughput(address: string, item: unknown, n: number): Promise<number> {
  const items = function* (): Generator<unknown> {
    for (let i = 0; i < n; i++) yield item;
  };
  let received = 0;
  const start = process.hrtime.bigint();
  const out$: Observable<unknown> = fromAsyncIterable(items()).pipe(remote({ address, window: WINDOW }, passThrough()));
  await new Promise<void>((resolve, reject) => out$.subscribe({ next: () => void received++, error: reject, complete: resolve }));
  if (received !== n) throw new Error(`received ${received} of ${n}`);
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function remoteLatency(address: string, item: unknown, n: number): Promise<number[]> {
  const input = new Subject<unknown>();
  const times: number[] = [];
  let start = 0n;
  // One stream: each round trip is timed from next() to the echoed item, then the next item goes out.
  await new Promise<void>((resolve, reject) => {
    input.pipe(remote({ address, window: WINDOW }, passThrough())).subscribe({
      next: () => {
        times.push(Number(process.hrtime.bigint() - start) / 1000);
        if (times.length === n) {
          input.complete();
          return;
        }
        start = process.hrtime.bigint();
        input.next(item);
      },
      error: reject,
      complete: resolve,
    });
    start = process.hrtime.bigint();
    input.next(item);
  });
  return times;
}

function summarize(itemsPerSec: number, latencies: number[]): Measure {
  const warm = latencies.slice(Math.floor(latencies.length / 10));
  return { itemsPerSec: Math.round(itemsPerSec), p50Us: Math.round(percentile(warm, 50)), p99Us: Math.round(percentile(warm, 99)) };
}

const frame = { samples: new Float32Array(320).map((_, i) => Math.sin(i / 5) * 0.5), sampleRate: 16000, channels: 1, pts: 0 };
const json = { id: 42, text: 'hello world', ok: true, scores: [0.1, 0.2] };
const scenarios = [
  { name: '20 ms audio frame (16 kHz mono)', item: frame },
  { name: 'small JSON value', item: json },
];

if (SERVE) {
  // Child mode: host both servers, print their addresses, run until killed.
  const executor = await startExecutor({ port: 0, logLevel: 'silent' });
  const raw = await startRawEcho();
  console.log(JSON.stringify({ executor: executor.address, raw: raw.address }));
  await new Promise(() => undefined);
}

const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
const servers = await new Promise<{ executor: string; raw: string }>((resolve, reject) => {
  createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line) as { executor: string; raw: string }));
  child.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
});
const executor = { address: servers.executor };
const rawClient = new RemoteMediaClient(servers.raw, credentials.createInsecure());
const rows: string[] = [];
for (const s of scenarios) {
  const payload = encodePayload(s.item);
  // Warm-up both paths (JIT, connections), then measure.
  await rawThroughput(rawClient, payload, 2000);
  await remoteThroughput(executor.address, s.item, 2000);
  const rawM = summarize(await rawThroughput(rawClient, payload, THROUGHPUT_ITEMS), await rawLatency(rawClient, payload, LATENCY_ITEMS));
  const remoteM = summarize(await remoteThroughput(executor.address, s.item, THROUGHPUT_ITEMS), await remoteLatency(executor.address, s.item, LATENCY_ITEMS));
  const throughputRatio = Number((remoteM.itemsPerSec / rawM.itemsPerSec).toFixed(2));
  const result = {
    bench: 'remote',
    scenario: s.name,
    payloadBytes: payload.length,
    raw: rawM,
    remote: remoteM,
    throughputRatio,
    p50Ratio: Number((remoteM.p50Us / rawM.p50Us).toFixed(2)),
    meetsTargets: remoteM.p50Us <= 250 && throughputRatio >= 0.5,
  };
  console.log(JSON.stringify(result));
  rows.push(
    `| ${s.name} | ${payload.length} | ${rawM.itemsPerSec} | ${remoteM.itemsPerSec} | ${throughputRatio} | ${rawM.p50Us} / ${rawM.p99Us} | ${remoteM.p50Us} / ${remoteM.p99Us} | ${result.meetsTargets ? 'yes' : 'no'} |`,
  );
}
rawClient.close();
child.kill('SIGKILL');

const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
const nproc = execSync('nproc', { encoding: 'utf8' }).trim();
writeResultsSection(
  'remote',
  `Run ${new Date().toISOString().slice(0, 10)} on ${nproc} × ${cpu} (nproc ${nproc}), Node ${process.version}; loopback, both servers in one child process (every round trip crosses processes).
\`npm run bench:remote\` — ${THROUGHPUT_ITEMS} items for throughput (window ${WINDOW}), ${LATENCY_ITEMS} sequential round trips for latency (first 10% dropped).
Raw = grpc-js bidi echo of the same pre-encoded payload on the same proto; remote = \`remote({ address }, passThrough())\` (msgpack, credits, RxJS).
Targets: round trip p50 ≤ 250 µs; throughput ≥ 0.5× raw.

| payload | bytes | raw items/s | remote items/s | ratio | raw p50 / p99 µs | remote p50 / p99 µs | meets targets |
|---|---:|---:|---:|---:|---:|---:|:--:|
${rows.join('\n')}`,
);
