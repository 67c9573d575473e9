/**
 * `npm run bench:compare`: the same remote workload against three implementations, measured in one run on loopback
 * with every server in its own child process:
 *  - remotemedia: `remote({ address }, channelMix, energyVad, passThrough)` over 20 ms 16 kHz frames (one bidi
 *    stream, credits, msgpack), and a proxied counter method (`connect().createProxy('Counter').increment()`);
 *  - the predecessor's design: a Python grpcio executor doing one unary call per item with pickled payloads
 *    (bench/baselines/python_grpc_executor.py, Debian python3-grpcio + python3-numpy), sequential and with 16
 *    calls in flight, plus one unary call per counter increment;
 *  - raw grpc-js: a bidi echo of the pre-encoded frame (the transport floor) and a unary call.
 * Reports items/s, p50/p99 and ratios; target: remotemedia ≥ 5× the Python baseline's throughput.
 * Writes the `compare` section of bench/RESULTS.md.
 *   npx tsx bench/compare.ts [items] [latencyItems]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { credentials } from '@grpc/grpc-js';
import { benchFrame, benchRemote } from '../bin/cli/benchWorkload.js';
import { encodePayload } from '../src/remote/codec.js';
import { RemoteMediaClient } from '../src/remote/gen/remotemedia.js';
import { connect } from '../src/remote/index.js';
import { machine, percentile, writeResultsSection } from './lib.js';
import { startRawEcho } from './rawEcho.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ITEMS = Number(process.argv[2] ?? 20_000);
const LATENCY_ITEMS = Number(process.argv[3] ?? 3_000);
const PYTHON = '/usr/bin/python3';
const PY_SCRIPT = fileURLToPath(new URL('./baselines/python_grpc_executor.py', import.meta.url));

interface Row {
  name: string;
  itemsPerSec: number;
  p50Us: number;
  p99Us: number;
}

/** Spawns a server and resolves with the first stdout line parsed as JSON. */
async function serve(command: string, args: string[]): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as Record<string, unknown>));
    child.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited with ${code}`)));
  });
  return { child, ready };
}

/** `--serve-raw`: the raw grpc-js echo server in this child process; prints its port. */
async function serveRaw(): Promise<void> {
  const { port } = await startRawEcho();
  process.stdout.write(`${JSON.stringify({ port })}\n`);
}

async function rawStream(address: string): Promise<Row> {
  const client = new RemoteMediaClient(address, credentials.createInsecure());
  const payload = encodePayload(benchFrame(0));
  const window = 64;
  // Pipelined echo with at most `window` in flight.
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const call = client.stream();
    let sent = 0;
    let received = 0;
    const pump = (): void => {
      while (sent < ITEMS && sent - received < window) call.write({ data: { seq: sent++, payload } });
    };
    call.on('data', () => {
      if (++received === ITEMS) {
        call.end();
        resolve();
      } else pump();
    });
    pump();
  });
  const itemsPerSec = ITEMS / ((performance.now() - start) / 1000);
  const latencies: number[] = [];
  await new Promise<void>((resolve) => {
    const call = client.stream();
    let t0 = performance.now();
    call.on('data', () => {
      latencies.push((performance.now() - t0) * 1000);
      if (latencies.length === LATENCY_ITEMS) {
        call.end();
        resolve();
      } else {
        t0 = performance.now();
        call.write({ data: { seq: latencies.length, payload } });
      }
    });
    call.write({ data: { seq: 0, payload } });
  });
  client.close();
  return { name: 'raw grpc-js bidi echo (transport floor)', itemsPerSec: Math.round(itemsPerSec), p50Us: Math.round(percentile(latencies, 50)), p99Us: Math.round(percentile(latencies, 99)) };
}

async function rawUnary(address: string): Promise<Row> {
  const client = new RemoteMediaClient(address, credentials.createInsecure());
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_ITEMS; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => client.getStatus({}, (e) => (e ? reject(e) : resolve())));
    latencies.push((performance.now() - t0) * 1000);
  }
  client.close();
  const seconds = latencies.reduce((a, b) => a + b, 0) / 1e6;
  return { name: 'raw grpc-js unary call', itemsPerSec: Math.round(LATENCY_ITEMS / seconds), p50Us: Math.round(percentile(latencies, 50)), p99Us: Math.round(percentile(latencies, 99)) };
}

async function proxiedCounter(address: string): Promise<Row> {
  const client = await connect({ address });
  try {
    const counter = (await client.createProxy('Counter', 0)) as unknown as { increment(by?: number): Promise<number> };
    for (let i = 0; i < 200; i++) await counter.increment();
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_ITEMS; i++) {
      const t0 = performance.now();
      await counter.increment();
      latencies.push((performance.now() - t0) * 1000);
    }
    const seconds = latencies.reduce((a, b) => a + b, 0) / 1e6;
    return { name: 'remotemedia proxied counter.increment()', itemsPerSec: Math.round(LATENCY_ITEMS / seconds), p50Us: Math.round(percentile(latencies, 50)), p99Us: Math.round(percentile(latencies, 99)) };
  } finally {
    await client.close();
  }
}

async function main(): Promise<void> {
  const tsx = [process.execPath, '--no-node-snapshot', '--import', 'tsx'];
  const executor = await serve(tsx[0]!, [...tsx.slice(1), 'executor/main.ts', '--port', '0', '--log-level', 'silent', '--module', './bench/baselines/counterClass.ts']);
  const raw = await serve(tsx[0]!, [...tsx.slice(1), 'bench/compare.ts', '--serve-raw']);
  const python = await serve(PYTHON, [PY_SCRIPT, 'serve']);
  try {
    const address = String(executor.ready['listening']);
    const rm = await benchRemote({ address, window: 64 }, { items: ITEMS, latencyItems: LATENCY_ITEMS, streams: 1 });
    const rm4 = await benchRemote({ address, window: 64 }, { items: ITEMS, latencyItems: 10, streams: 4 });
    const rows: Row[] = [
      { name: 'remotemedia remote() stream, 1 stream', ...rm },
      { name: 'remotemedia remote() stream, 4 streams', itemsPerSec: rm4.itemsPerSec, p50Us: Number.NaN, p99Us: Number.NaN },
    ];
    const counter = await proxiedCounter(address);
    const rawAddress = `127.0.0.1:${String(raw.ready['port'])}`;
    const rawRow = await rawStream(rawAddress);
    const rawUnaryRow = await rawUnary(rawAddress);
    const py = spawnSync(PYTHON, [PY_SCRIPT, 'client', String(python.ready['port']), String(ITEMS), String(LATENCY_ITEMS), '16'], { encoding: 'utf8' });
    if (py.status !== 0) throw new Error(`python client failed: ${py.stderr}`);
    const p = JSON.parse(py.stdout) as Record<string, number | string>;
    const pySeq: Row = { name: 'Python grpcio, unary call per item, pickle (1 in flight)', itemsPerSec: Number(p['sequentialItemsPerSec']), p50Us: Number(p['p50Us']), p99Us: Number(p['p99Us']) };
    const pyConc: Row = { name: `Python grpcio, unary call per item, pickle (${p['concurrency']} in flight)`, itemsPerSec: Number(p['concurrentItemsPerSec']), p50Us: Number.NaN, p99Us: Number.NaN };
    const pyCounter: Row = { name: 'Python grpcio counter.increment() (unary, pickle)', itemsPerSec: Number(p['counterCallsPerSec']), p50Us: Number(p['counterP50Us']), p99Us: Number(p['counterP99Us']) };
    const all = [...rows, pySeq, pyConc, rawRow, counter, pyCounter, rawUnaryRow];
    for (const row of all) process.stdout.write(`${JSON.stringify(row)}\n`);

    const bestPython = Math.max(pySeq.itemsPerSec, pyConc.itemsPerSec);
    const bestRm = Math.max(rm.itemsPerSec, rm4.itemsPerSec);
    const ratio = bestRm / bestPython;
    const fmt = (n: number): string => (Number.isNaN(n) ? '—' : String(n));
    const table = (list: Row[], base: number, baseName: string): string[] => [
      `| implementation | items/s | p50 µs | p99 µs | items/s ÷ ${baseName} |`,
      '|---|---:|---:|---:|---:|',
      ...list.map((r) => `| ${r.name} | ${r.itemsPerSec} | ${fmt(r.p50Us)} | ${fmt(r.p99Us)} | ${(r.itemsPerSec / base).toFixed(2)} |`),
    ];
    writeResultsSection(
      'compare',
      [
        `Run ${new Date().toISOString().slice(0, 10)} on ${machine()}; Python ${p['python']}, grpcio ${p['grpcio']}, numpy ${p['numpy']}. \`npm run bench:compare\` (${ITEMS} items for throughput, ${LATENCY_ITEMS} sequential calls for latency). Loopback; each server in its own child process; clients in this process (Python's client in its own).`,
        '',
        '**Stream workload**: 20 ms frames of 16 kHz mono audio through channelMix → energyVad → passThrough on the executor. remotemedia: one bidi stream, credit window 64, msgpack AudioFrame extension. Python (the predecessor\'s design): one unary call per frame, pickled dict with a numpy array, the same three steps in numpy.',
        '',
        ...table([...rows, pySeq, pyConc, rawRow], bestPython, 'best Python'),
        '',
        `Best remotemedia ÷ best Python throughput (each with the most it can pipeline: 4 streams vs 16 calls in flight) = **${ratio.toFixed(1)}×** (target ≥ 5×: ${ratio >= 5 ? 'met' : 'NOT met'}); one stream ÷ one call in flight = ${(rm.itemsPerSec / pySeq.itemsPerSec).toFixed(1)}×; one stream ÷ raw grpc-js echo = ${(rm.itemsPerSec / rawRow.itemsPerSec).toFixed(2)}. Round-trip p50 with one item in flight: ${rm.p50Us} µs vs ${pySeq.p50Us} µs.`,
        '',
        `Load average when the run ended: ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (2 cores; other work on the machine depresses both sides, not necessarily equally).`,
        '',
        '**Proxied counter**: one awaited method call at a time.',
        '',
        ...table([counter, pyCounter, rawUnaryRow], pyCounter.itemsPerSec, 'Python'),
      ].join('\n'),
    );
  } finally {
    for (const s of [executor, raw, python]) s.child.kill('SIGKILL');
  }
}

if (process.argv[2] === '--serve-raw') await serveRaw();
else await main();
