/**
 * Per-item overhead of remotemedia operators against plain RxJS `map`, measured in one run.
 * Scenarios: a 5-node chain of `calculator({ add 1 })` vs five `map(x => x + 1)`, and five `passThrough()` vs five
 * `map(x => x)`. Items flow synchronously from `range()`, so the numbers are pure operator overhead.
 * Prints one JSON line per scenario and writes the `operators` section of bench/RESULTS.md.
 *   npm run bench            (all benchmarks)     npx tsx bench/operators.ts [items]
 */
import { map, range, type OperatorFunction } from 'rxjs';
import { calculator } from '../src/operators/core/calculator.js';
import { passThrough } from '../src/operators/core/passThrough.js';
import { machine, median, writeResultsSection } from './lib.js';

const ITEMS = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = 7;
const NODES = 5;

type Chain = OperatorFunction<number, number>[];

function chain(ops: Chain): OperatorFunction<number, number> {
  return (source) => ops.reduce((s, op) => s.pipe(op), source);
}

/** ns per item for one pass of ITEMS through the chain. */
function timeOnce(ops: Chain): number {
  let sink = 0;
  const start = process.hrtime.bigint();
  range(0, ITEMS).pipe(chain(ops)).subscribe((x) => (sink += x));
  const ns = Number(process.hrtime.bigint() - start);
  if (sink === -1) console.log('unreachable');
  return ns / ITEMS;
}

/** Alternates baseline and candidate rounds so that machine noise hits both alike; returns medians. */
function compare(baseline: () => Chain, candidate: () => Chain): { baseline: number; candidate: number } {
  timeOnce(baseline());
  timeOnce(candidate());
  const b: number[] = [];
  const c: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    b.push(timeOnce(baseline()));
    c.push(timeOnce(candidate()));
  }
  return { baseline: median(b), candidate: median(c) };
}

const scenarios = [
  {
    name: `calculator(add) ×${NODES} vs map(x+1) ×${NODES}`,
    baseline: (): Chain => Array.from({ length: NODES }, () => map((x: number) => x + 1)),
    candidate: (): Chain => Array.from({ length: NODES }, () => calculator({ operation: 'add', operand: 1 })),
  },
  {
    name: `passThrough() ×${NODES} vs map(x=>x) ×${NODES}`,
    baseline: (): Chain => Array.from({ length: NODES }, () => map((x: number) => x)),
    candidate: (): Chain => Array.from({ length: NODES }, () => passThrough<number>()),
  },
];

const rows: string[] = [];
for (const s of scenarios) {
  const r = compare(s.baseline, s.candidate);
  const perNodeOverhead = (r.candidate - r.baseline) / NODES;
  const result = {
    bench: 'operators',
    scenario: s.name,
    items: ITEMS,
    baselineNsPerItem: +r.baseline.toFixed(1),
    remotemediaNsPerItem: +r.candidate.toFixed(1),
    ratio: +(r.candidate / r.baseline).toFixed(2),
    overheadNsPerNode: +perNodeOverhead.toFixed(1),
    targetNsPerNode: 1000,
  };
  console.log(JSON.stringify(result));
  rows.push(`| ${s.name} | ${result.baselineNsPerItem} | ${result.remotemediaNsPerItem} | ${result.ratio}× | ${result.overheadNsPerNode} | ${perNodeOverhead <= 1000 ? 'met' : 'MISSED'} |`);
}

writeResultsSection(
  'operators',
  [
    `Run ${new Date().toISOString().slice(0, 10)} on ${machine()}; ${ITEMS.toLocaleString('en')} items, median of ${ROUNDS} alternating rounds.`,
    '',
    '| scenario | plain RxJS ns/item (whole chain) | remotemedia ns/item (whole chain) | ratio | overhead ns/item per node | target ≤ 1000 ns/node |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n'),
);
