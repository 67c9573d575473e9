/**
 * Object-proxy calls against raw grpc-js unary calls, in one run on loopback, both servers in one child process
 * (this script with `--serve`), so every call crosses processes:
 * (a) raw grpc-js unary `GetStatus` answered with a constant (the transport floor for one request/response);
 * (b) `await counter.increment()` on a proxy of a registered class (executor realm);
 * (c) the same on a shipped class (runs in an isolated-vm isolate).
 * Latency: sequential calls, p50/p99 µs (first 10% dropped). Throughput: calls/s sequential and with 32 in flight.
 * Targets (issue 5 §6): p50 ≤ 300 µs and ≥ 3k calls/s. One JSON line per scenario; writes the `proxy` section of
 * bench/RESULTS.md.
 *   npm run bench:proxy            npx tsx bench/proxy.ts [calls]
 */
import { execSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { credentials, Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { registerClass, startExecutor } from '../executor/index.js';
import { GetStatusResponse, RemoteMediaClient, RemoteMediaService, type GetStatusRequest } from '../src/remote/gen/remotemedia.js';
import { connect } from '../src/remote/index.js';
import { percentile, writeResultsSection } from './lib.js';

const SERVE = process.argv[2] === '--serve';
const CALLS = Number((SERVE ? undefined : process.argv[2]) ?? 5_000);
const CONCURRENCY = 32;

class BenchCounter {
  n = 0;
  increment(): number {
    return ++this.n;
  }
}

interface Measure {
  sequentialCallsPerSec: number;
  concurrentCallsPerSec: number;
  p50Us: number;
  p99Us: number;
}

async function startRawUnary(): Promise<{ address: string }> {
  const server = new Server();
  const reply = GetStatusResponse.fromPartial({ version: 'raw' });
  server.addService(RemoteMediaService, {
    getStatus: (_call: ServerUnaryCall<GetStatusRequest, GetStatusResponse>, callback: sendUnaryData<GetStatusResponse>) => callback(null, reply),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}` };
}

async function measure(call: () => Promise<unknown>, n: number): Promise<Measure> {
  for (let i = 0; i < 500; i++) await call(); // warm-up
  const times: number[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await call();
    times.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  const sequential = n / (Number(process.hrtime.bigint() - start) / 1e9);
  let next = 0;
  const cStart = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < n) await call();
    }),
  );
  const concurrent = n / (Number(process.hrtime.bigint() - cStart) / 1e9);
  const warm = times.slice(Math.floor(times.length / 10));
  return {
    sequentialCallsPerSec: Math.round(sequential),
    concurrentCallsPerSec: Math.round(concurrent),
    p50Us: Math.round(percentile(warm, 50)),
    p99Us: Math.round(percentile(warm, 99)),
  };
}

if (SERVE) {
  registerClass('BenchCounter', BenchCounter);
  const executor = await startExecutor({ port: 0, logLevel: 'silent' });
  const raw = await startRawUnary();
  console.log(JSON.stringify({ executor: executor.address, raw: raw.address }));
  await new Promise(() => undefined);
}

const child = spawn(process.execPath, ['--no-node-snapshot', '--import', 'tsx', fileURLToPath(import.meta.url), '--serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
const servers = await new Promise<{ executor: string; raw: string }>((resolve, reject) => {
  createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line) as { executor: string; raw: string }));
  child.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
});

// The server process must not outlive this one, whatever happens below.
process.once('exit', () => child.kill('SIGKILL'));
const rawClient = new RemoteMediaClient(servers.raw, credentials.createInsecure());
const rawCall = (): Promise<unknown> => new Promise((resolve, reject) => rawClient.getStatus({}, (e, v) => (e ? reject(e) : resolve(v))));
const client = await connect({ address: servers.executor });
const registered = await client.createProxy<BenchCounter>('BenchCounter');
const shipped = await client.createProxy(BenchCounter);

const raw = await measure(rawCall, CALLS);
const rows: string[] = [];
for (const [name, proxy] of [
  ['registered class', registered],
  ['shipped class (isolate)', shipped],
] as const) {
  const m = await measure(() => proxy.increment(), CALLS);
  const meetsTargets = m.p50Us <= 300 && m.sequentialCallsPerSec >= 3000;
  console.log(JSON.stringify({ bench: 'proxy', scenario: name, raw, proxy: m, p50Ratio: Number((m.p50Us / raw.p50Us).toFixed(2)), meetsTargets }));
  rows.push(
    `| ${name} | ${raw.p50Us} / ${raw.p99Us} | ${m.p50Us} / ${m.p99Us} | ${raw.sequentialCallsPerSec} | ${m.sequentialCallsPerSec} | ${raw.concurrentCallsPerSec} | ${m.concurrentCallsPerSec} | ${meetsTargets ? 'yes' : 'no'} |`,
  );
}
await client.close();
rawClient.close();
child.kill('SIGKILL');

const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
const nproc = execSync('nproc', { encoding: 'utf8' }).trim();
writeResultsSection(
  'proxy',
  `Run ${new Date().toISOString().slice(0, 10)} on ${nproc} × ${cpu}, Node ${process.version}; loopback, executor and raw server in one child process.
\`npm run bench:proxy\` — ${CALLS} calls per measurement (after 500 warm-up calls); latency from sequential calls (first 10% dropped);
throughput sequential (one call in flight) and with ${CONCURRENCY} calls in flight.
Load average at the end of the run: ${loadavg()[0]!.toFixed(2)} (other work shared the machine: compare ratios, not absolutes).
Raw = grpc-js unary call (GetStatus answered with a constant), one HTTP/2 stream per call; proxy = \`await counter.increment()\` over one long-lived Session stream (msgpack both ways) with no per-call headers, the likely reason it beats the unary baseline (not measured separately).
Targets: p50 ≤ 300 µs and ≥ 3k calls/s (sequential).

| proxy of | raw p50 / p99 µs | proxy p50 / p99 µs | raw calls/s | proxy calls/s | raw calls/s (${CONCURRENCY} in flight) | proxy calls/s (${CONCURRENCY} in flight) | meets targets |
|---|---:|---:|---:|---:|---:|---:|:--:|
${rows.join('\n')}`,
);
