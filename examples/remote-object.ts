/**
 * Remote objects: a class registered on the executor, and a class of ours shipped to it and run in a sandbox.
 *
 *   node --no-node-snapshot --import tsx examples/remote-object.ts
 *
 * Uses the executor at `REMOTEMEDIA_EXECUTOR` (host:port; token from `REMOTEMEDIA_TOKEN`) when set (start one with
 * `node --no-node-snapshot --import tsx bin/remotemedia.ts executor --module ./my-classes.ts`); otherwise starts one
 * in this process, with `Counter` registered. `--no-node-snapshot` is what isolated-vm needs on Node 20.
 */
import { registerClass, startExecutor } from '../executor/index.js';
import { connect, executorStatus } from '../src/index.js';

/** Registered on the executor: trusted code, runs in the executor's realm. */
class Counter {
  constructor(private n = 0) {}
  increment(): number {
    return ++this.n;
  }
}

/** Ours: shipped by its source and run in an isolated-vm isolate (no fs, network, process or timers there). */
class Tokenizer {
  seen = 0;
  async *words(text: string): AsyncGenerator<string> {
    try {
      for (const word of text.split(/\s+/)) {
        this.seen++;
        yield word.toLowerCase();
      }
    } finally {
      this.seen = -this.seen; // marks that the generator was closed
    }
  }
}

const env = process.env['REMOTEMEDIA_EXECUTOR'];
registerClass('Counter', Counter);
const local = env === undefined ? await startExecutor({ port: 0, logLevel: 'silent' }) : undefined;
const address = env ?? local!.address;
const token = process.env['REMOTEMEDIA_TOKEN'];

{
  await using client = await connect({ address, token, batchSize: 3 });

  const counter = await client.createProxy<Counter>('Counter', 10);
  console.log(`Counter on ${client.address}: ${await counter.increment()}, ${await counter.increment()}, ${await counter.increment()}`);

  await using tokenizer = await client.createProxy(Tokenizer);
  const first: string[] = [];
  for await (const word of tokenizer.words('The Quick Brown Fox Jumps Over The Lazy Dog')) {
    first.push(word);
    if (first.length === 4) break; // closes the remote generator: its finally runs there
  }
  console.log(`Tokenizer (sandboxed): first words ${JSON.stringify(first)}; remote seen = ${await tokenizer.seen}`);

  const status = await executorStatus({ address, token });
  console.log(`executor holds ${status.activeSessions} session(s), ${status.activeObjects ?? 0} object(s)`);
}
// `await using` released both proxies and closed the session.
const after = await executorStatus({ address, token });
console.log(`after close: ${after.activeSessions} session(s), ${after.activeObjects ?? 0} object(s)`);
await local?.close();
