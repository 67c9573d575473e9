/**
 * Object proxies against a real executor on loopback: registered classes, shipped classes (in isolated-vm),
 * properties, generators pulled in batches, remote errors, and release. Every test ends with the executor holding
 * no session and no object.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, fromModule, ProxyDisposedError, RemoteMediaError, type RemoteClient } from '../../src/index.js';
import type { Counter, Numbers } from './fixtures/registered.js';
import type { Scaler } from './fixtures/shippedModule.js';
import { proxyExecutor, type ProxyExecutor } from './helpers.js';

class ShippedCounter {
  n: number;
  constructor(start: number) {
    this.n = start;
  }
  increment(): number {
    return ++this.n;
  }
  async later(k: number): Promise<number> {
    await null;
    return this.n + k;
  }
  finallyRan = 0;
  async *count(n: number): AsyncGenerator<number> {
    try {
      for (let i = 0; i < n; i++) yield i;
    } finally {
      this.finallyRan++;
    }
  }
  fail(): never {
    throw new TypeError('shipped refuses');
  }
}

let executor: ProxyExecutor;
let client: RemoteClient;

beforeAll(async () => {
  // No token here: stacks are sent only because this executor says so (default: only to authenticated callers).
  executor = await proxyExecutor({ errorStacks: 'always' });
});
afterAll(async () => {
  await executor.close();
});
afterEach(async () => {
  await client?.close();
  await executor.expectEmpty();
});

describe('proxy of a registered class', () => {
  it('counter from 10: increment() ×3 gives 11, 12, 13 and the state stays between calls', async () => {
    client = await connect({ address: executor.address });
    const counter = await client.createProxy<Counter>('Counter', 10);
    expect([await counter.increment(), await counter.increment(), await counter.increment()]).toEqual([11, 12, 13]);
    expect(await counter.n).toBe(13);
    expect(await counter.doubled).toBe(26);
    expect(await counter.add(7)).toBe(20);
    expect((await executor.status()).activeObjects).toBe(1);
  });

  it('a generator of 10 read in batches of 3 and closed after 5: the remote finally ran, 6 items were produced', async () => {
    client = await connect({ address: executor.address, batchSize: 3 });
    const numbers = await client.createProxy<Numbers>('Numbers');
    const seen: number[] = [];
    for await (const x of numbers.count(10)) {
      seen.push(x);
      if (seen.length === 5) break;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(await numbers.finallyRan).toBe(1);
    expect(await numbers.produced).toBe(6);
  });

  it('a generator read to the end, and one awaited first then iterated', async () => {
    client = await connect({ address: executor.address });
    const numbers = await client.createProxy<Numbers>('Numbers');
    const all: number[] = [];
    for await (const x of numbers.count(40)) all.push(x);
    expect(all).toEqual([...Array(40).keys()]);
    const iterable = await numbers.count(2);
    const again: number[] = [];
    for await (const x of iterable) again.push(x);
    expect(again).toEqual([0, 1]);
    expect(await numbers.finallyRan).toBe(2);
  });

  it('a remote throw rejects with RemoteMediaError NODE_FAILED carrying the remote stack; the object lives on', async () => {
    client = await connect({ address: executor.address });
    const counter = await client.createProxy<Counter>('Counter', 3);
    const error = await counter.fail().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteMediaError);
    expect(error).toMatchObject({ code: 'NODE_FAILED', node: 'Counter.fail' });
    expect((error as Error).message).toContain('counter at 3 refuses');
    expect((error as RemoteMediaError).remoteStack).toMatch(/RangeError: counter at 3 refuses\n\s+at Counter.fail/);
    expect(await counter.increment()).toBe(4);
  });

  it('unknown class, unknown method, and members every object has are refused with clear errors', async () => {
    client = await connect({ address: executor.address });
    await expect(client.createProxy('Nope')).rejects.toMatchObject({ code: 'UNKNOWN_NODE', message: expect.stringContaining("no class registered as 'Nope'") });
    const counter = await client.createProxy<Record<string, () => Promise<unknown>>>('Counter');
    await expect(counter['missing']!()).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining("'missing' is not a method") });
    await expect(counter['constructor']!()).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining("'constructor' is not a remote member") });
    await expect(counter['__proto__']!()).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('release: asyncDispose is idempotent, later calls reject ProxyDisposedError, client.release frees, close frees the rest', async () => {
    client = await connect({ address: executor.address });
    const a = await client.createProxy<Counter>('Counter');
    const b = await client.createProxy<Counter>('Counter');
    const c = await client.createProxy<Counter>('Counter');
    expect((await executor.status()).activeObjects).toBe(3);
    await Promise.all([a[Symbol.asyncDispose](), a[Symbol.asyncDispose]()]);
    await expect(a.increment()).rejects.toBeInstanceOf(ProxyDisposedError);
    await expect(a.increment()).rejects.toMatchObject({ code: 'CANCELLED' });
    await client.release(b);
    expect((await executor.status()).activeObjects).toBe(1);
    expect(client.liveProxies).toBe(1);
    await client.close();
    await expect(c.increment()).rejects.toBeInstanceOf(ProxyDisposedError);
    await expect(client.createProxy('Counter')).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('await using releases at the end of the block', async () => {
    client = await connect({ address: executor.address });
    {
      await using counter = await client.createProxy<Counter>('Counter', 1);
      expect(await counter.increment()).toBe(2);
      expect((await executor.status()).activeObjects).toBe(1);
    }
    expect((await executor.status()).activeObjects).toBe(0);
  });

  it('the proxy is not thenable and refuses meaningless operations with a sentence', async () => {
    client = await connect({ address: executor.address });
    const counter = await client.createProxy<Counter>('Counter');
    expect(await counter).toBe(counter);
    expect(() => {
      (counter as unknown as Record<string, number>)['n'] = 1;
    }).toThrow(/cannot have properties set/);
    expect(() => new (counter as unknown as new () => object)()).toThrow(TypeError);
    expect(Object.keys(counter)).toEqual([]);
  });
});

describe('proxy of shipped code (isolated-vm)', () => {
  it('a class shipped by source: counter from 10 gives 11, 12, 13; async methods; state kept', async () => {
    client = await connect({ address: executor.address });
    const counter = await client.createProxy(ShippedCounter, 10);
    expect([await counter.increment(), await counter.increment(), await counter.increment()]).toEqual([11, 12, 13]);
    expect(await counter.later(100)).toBe(113);
    expect(await counter.n).toBe(13);
  });

  it('an instance is shipped with its own state (constructor not run)', async () => {
    client = await connect({ address: executor.address });
    const local = new ShippedCounter(0);
    local.n = 41;
    const counter = await client.createProxy(local);
    expect(await counter.increment()).toBe(42);
    expect(local.n).toBe(41);
  });

  it('a generator in the sandbox read in batches of 3 and closed after 5 runs its finally', async () => {
    client = await connect({ address: executor.address, batchSize: 3 });
    const counter = await client.createProxy(ShippedCounter, 0);
    const seen: number[] = [];
    for await (const x of counter.count(10)) {
      seen.push(x);
      if (seen.length === 5) break;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(await counter.finallyRan).toBe(1);
  });

  it('errors thrown in the sandbox keep their class name, message and stack', async () => {
    client = await connect({ address: executor.address });
    const counter = await client.createProxy(ShippedCounter, 0);
    const error = (await counter.fail().catch((e: unknown) => e)) as RemoteMediaError;
    expect(error).toMatchObject({ code: 'NODE_FAILED' });
    expect(error.message).toContain('TypeError: shipped refuses');
    expect(error.remoteStack).toContain('shipped refuses');
  });

  it('fromModule bundles the module and its local imports with esbuild', async () => {
    client = await connect({ address: executor.address });
    const scaler = await client.createProxy(fromModule<Scaler>(new URL('./fixtures/shippedModule.ts', import.meta.url), 'Scaler'), 3);
    expect(await scaler.apply([1, 2, 3])).toEqual([3, 6, 9]);
  });

  it('a bare npm import is refused with a clear error unless the executor allow-lists it', async () => {
    client = await connect({ address: executor.address });
    await expect(client.createProxy(fromModule(new URL('./fixtures/bareImport.ts', import.meta.url), 'UsesZod'))).rejects.toThrow(
      /bare import 'zod' is refused: shipped code may only import local files, or packages the executor allow-lists \(allowModules\)/,
    );
  });
});
