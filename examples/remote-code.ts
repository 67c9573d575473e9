/**
 * Sandboxed code as a node: `codeNode` runs a transform of ours in an isolated-vm isolate, here locally and then
 * inside `remote()` on an executor; a runaway transform is stopped by its time limit.
 *
 *   node --no-node-snapshot --import tsx examples/remote-code.ts
 *
 * Uses the executor at `REMOTEMEDIA_EXECUTOR` (token from `REMOTEMEDIA_TOKEN`) when set; otherwise starts one here.
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { startExecutor } from '../executor/index.js';
import { codeNode, remote, type RemoteMediaError } from '../src/index.js';

const env = process.env['REMOTEMEDIA_EXECUTOR'];
const local = env === undefined ? await startExecutor({ port: 0, logLevel: 'silent' }) : undefined;
const config = { address: env ?? local!.address, token: process.env['REMOTEMEDIA_TOKEN'] };

// A self-contained function is shipped by its source text; it sees plain copies of the items.
const shout = codeNode((text: string) => `${text.toUpperCase()}!`, { timeoutMs: 100, memoryLimitMb: 32 });

const here = await lastValueFrom(from(['hello', 'sandbox']).pipe(shout, toArray()));
console.log(`locally:  ${JSON.stringify(here)}`);

const there = await lastValueFrom(from(['hello', 'executor']).pipe(remote(config, shout), toArray()));
console.log(`remotely: ${JSON.stringify(there)}`);

const runaway = codeNode(() => {
  for (;;) {
    /* never returns */
  }
}, { timeoutMs: 50 });
const start = performance.now();
try {
  await lastValueFrom(from([1]).pipe(remote(config, runaway)));
} catch (e) {
  const error = e as RemoteMediaError;
  console.log(`runaway:  ${error.name} ${error.code} after ${Math.round(performance.now() - start)} ms`);
}
await local?.close();
