/**
 * Per-item cost of `codeNode` (user code in an isolated-vm isolate, called asynchronously on the isolate's thread,
 * results converted to data inside the isolate under the clock) against isolated-vm called directly in the same run:
 * the same function, the same item, one awaited `apply()` per item with copied arguments and result (the baseline
 * has no result conversion, no ordering, no backpressure). Also shown: the synchronous `applySync()` path codeNode
 * used before (it held the event loop for the whole call).
 * Prints one JSON line per payload and writes the `sandbox` section of bench/RESULTS.md.
 *   npm run bench:sandbox            npx tsx bench/sandbox.ts [items]
 */
import { createRequire } from 'node:module';
import type ivm from 'isolated-vm';
import { from, lastValueFrom, toArray } from 'rxjs';
import { codeNode } from '../src/operators/core/codeNode.js';
import { machine, median, writeResultsSection } from './lib.js';

const ITEMS = Number(process.argv[2] ?? 5_000);
const ROUNDS = 5;
const Ivm = createRequire(import.meta.url)('isolated-vm') as typeof ivm;

interface Payload {
  readonly name: string;
  readonly make: (i: number) => unknown;
}

const payloads: Payload[] = [
  { name: 'number', make: (i) => i },
  { name: '20 ms audio frame (16 kHz mono, Float32Array 320)', make: (i) => ({ samples: new Float32Array(320).fill(i % 7), sampleRate: 16_000, channels: 1, pts: i * 20_000 }) },
];

// The same transform for all three: double a number, or scale a frame's samples.
const SOURCE = `(x) => typeof x === 'number' ? x * 2 : { ...x, samples: x.samples.map((s) => s * 2) }`;
const transform = (x: never): unknown => (typeof x === 'number' ? x * 2 : { ...(x as object), samples: (x as { samples: Float32Array }).samples.map((s) => s * 2) });

async function timeCodeNode(items: unknown[]): Promise<number> {
  const start = process.hrtime.bigint();
  const out = await lastValueFrom(from(items).pipe(codeNode(transform, { timeoutMs: 1000 }), toArray()));
  const ns = Number(process.hrtime.bigint() - start);
  if (out.length !== items.length) throw new Error(`codeNode emitted ${out.length} of ${items.length}`);
  return ns / items.length;
}

function rawIsolate(): { fn: ivm.Reference; dispose(): void } {
  const isolate = new Ivm.Isolate({ memoryLimit: 64 });
  const context = isolate.createContextSync();
  const fn = context.evalSync(SOURCE, { reference: true }) as ivm.Reference;
  return { fn, dispose: () => isolate.dispose() };
}

async function timeRawAsync(items: unknown[]): Promise<number> {
  const raw = rawIsolate();
  const start = process.hrtime.bigint();
  for (const item of items) await raw.fn.apply(undefined, [item], { arguments: { copy: true }, result: { copy: true, promise: true }, timeout: 1000 });
  const ns = Number(process.hrtime.bigint() - start);
  raw.dispose();
  return ns / items.length;
}

function timeRawSync(items: unknown[]): number {
  const raw = rawIsolate();
  const start = process.hrtime.bigint();
  for (const item of items) raw.fn.applySync(undefined, [item], { arguments: { copy: true }, result: { copy: true }, timeout: 1000 });
  const ns = Number(process.hrtime.bigint() - start);
  raw.dispose();
  return ns / items.length;
}

const rows: string[] = [];
for (const payload of payloads) {
  const items = Array.from({ length: ITEMS }, (_, i) => payload.make(i));
  await timeCodeNode(items.slice(0, 200));
  await timeRawAsync(items.slice(0, 200));
  timeRawSync(items.slice(0, 200));
  const node: number[] = [];
  const rawAsync: number[] = [];
  const rawSync: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    rawAsync.push(await timeRawAsync(items));
    node.push(await timeCodeNode(items));
    rawSync.push(timeRawSync(items));
  }
  const result = {
    payload: payload.name,
    items: ITEMS,
    rawAsyncUs: median(rawAsync) / 1000,
    codeNodeUs: median(node) / 1000,
    ratio: median(node) / median(rawAsync),
    rawSyncUs: median(rawSync) / 1000,
  };
  console.log(JSON.stringify(result));
  rows.push(
    `| ${result.payload} | ${result.rawAsyncUs.toFixed(1)} | ${result.codeNodeUs.toFixed(1)} | ${result.ratio.toFixed(2)}× | ${result.rawSyncUs.toFixed(1)} |`,
  );
}

writeResultsSection(
  'sandbox',
  `Run ${new Date().toISOString().slice(0, 10)} on ${machine()}; ${ITEMS} items per round, median of ${ROUNDS} rounds. \`npm run bench:sandbox\`.
Baseline: isolated-vm called directly, one awaited \`apply()\` per item (copied argument and result, same function).
codeNode adds: result converted to data inside the isolate under the clock, host deadline, memory check after the call, one event-loop turn per call (so other clients are served), in-order async boundary.
The synchronous \`applySync()\` column is the path codeNode used before issue #11 (it held the event loop for each call).

| payload | raw isolated-vm apply() µs/item | codeNode µs/item | ratio | raw applySync() µs/item |
|---|---:|---:|---:|---:|
${rows.join('\n')}`,
);
