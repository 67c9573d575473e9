/**
 * Proxy limits at N (accepted) and N+1 (RESOURCE_EXHAUSTED naming the limit). A client is a peer IP address, so on
 * loopback every connection here is the same client.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type ExecutorStatus, type RemoteClient } from '../../src/index.js';
import type { Counter, Numbers } from './fixtures/registered.js';
import { proxyExecutor, type ProxyExecutor } from './helpers.js';
import { rawClient, rawSession, Status } from './rawSession.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Parameters<typeof proxyExecutor>[0]): Promise<ProxyExecutor> {
  const executor = await proxyExecutor(options);
  cleanups.push(async () => {
    await executor.expectEmpty();
    await executor.close();
  });
  return executor;
}

async function until(executor: ProxyExecutor, check: (s: ExecutorStatus) => boolean): Promise<void> {
  const deadline = performance.now() + 5000;
  let last = await executor.status();
  while (!check(last)) {
    if (performance.now() > deadline) throw new Error(`status not reached: ${JSON.stringify({ sessionCalls: last.sessionCalls, activeSessions: last.activeSessions })}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
    last = await executor.status();
  }
}

async function clients(address: string, n: number): Promise<RemoteClient[]> {
  const list: RemoteClient[] = [];
  for (let i = 0; i < n; i++) {
    const client = await connect({ address });
    cleanups.push(() => client.close());
    list.push(client);
  }
  return list;
}

describe('proxy limits', () => {
  it.each([
    ['maxSessions', { maxSessions: 3 }, /executor is at its limit of 3 proxy sessions \(maxSessions\)/],
    ['maxSessionsPerClient', { maxSessionsPerClient: 3 }, /client 127\.0\.0\.1 is at its limit of 3 proxy sessions \(maxSessionsPerClient\)/],
  ] as const)('%s: 3 sessions open, the 4th is refused, and one closing frees a slot', async (_name, options, message) => {
    const executor = await start(options);
    const open = await clients(executor.address, 3);
    await expect(connect({ address: executor.address })).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED', message: expect.stringMatching(message) });
    await open[0]!.close();
    await clients(executor.address, 1);
  });

  it.each([
    ['maxObjects', { maxObjects: 4 }, /executor is at its limit of 4 proxy objects \(maxObjects\)/],
    ['maxObjectsPerClient', { maxObjectsPerClient: 4 }, /client 127\.0\.0\.1 is at its limit of 4 proxy objects \(maxObjectsPerClient\)/],
  ] as const)('%s: 4 objects over two sessions are created, the 5th is refused, a release frees a slot', async (_name, options, message) => {
    const executor = await start(options);
    const [a, b] = await clients(executor.address, 2);
    const made = [await a!.createProxy<Counter>('Counter'), await a!.createProxy<Counter>('Counter'), await b!.createProxy<Counter>('Counter')];
    made.push(await b!.createProxy<Counter>('Counter'));
    await expect(a!.createProxy('Counter')).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED', message: expect.stringMatching(message) });
    expect((await executor.status()).activeObjects).toBe(4);
    await made[0]![Symbol.asyncDispose]();
    const again = await b!.createProxy<Counter>('Counter', 1);
    expect(await again.increment()).toBe(2);
  });

  it('maxIteratorsPerObject: 2 open generators, the 3rd is refused (and closed), finishing one frees a slot', async () => {
    const executor = await start({ maxIteratorsPerObject: 2 });
    const [client] = await clients(executor.address, 1);
    const numbers = await client!.createProxy<Numbers>('Numbers');
    const first = await numbers.count(3);
    await numbers.count(3);
    await expect(numbers.count(3)).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED', message: expect.stringContaining('maxIteratorsPerObject') });
    expect(await numbers.finallyRan).toBe(0);
    const all: number[] = [];
    for await (const x of first) all.push(x);
    expect(all).toEqual([0, 1, 2]);
    await numbers.count(1);
  });

  it.each([
    ['maxSessionCallsPerClient', { maxSessionCallsPerClient: 3 }, 'client 127.0.0.1 is at its limit of 3 open Session calls (maxSessionCallsPerClient)'],
    ['maxSessionCalls', { maxSessionCalls: 3, maxSessionCallsPerClient: 10 }, 'executor is at its limit of 3 open Session calls (maxSessionCalls)'],
  ] as const)('%s: 3 calls awaiting open are held, the 4th is refused naming the limit, one ending frees a slot', async (_name, limits, details) => {
    const executor = await start({ ...limits, sessionTtlMs: 50 });
    const grpc = rawClient(executor.address);
    cleanups.push(async () => grpc.close());
    const calls = [rawSession(grpc), rawSession(grpc), rawSession(grpc)];
    await until(executor, (s) => s.sessionCalls === 3);
    const fourth = rawSession(grpc);
    expect(await fourth.ended).toMatchObject({ code: Status.RESOURCE_EXHAUSTED, details });
    expect(await executor.status()).toMatchObject({ sessionCalls: 3, rejectedCalls: 1 });
    calls[0]!.cancel();
    await until(executor, (s) => s.sessionCalls === 2);
    const again = rawSession(grpc);
    expect(await again.open()).toMatch(/^[0-9a-f-]{36}$/);
    for (const call of [...calls, again]) call.cancel();
    await until(executor, (s) => s.sessionCalls === 0);
  });

  it('maxCallsPerConnection: one connection holds N calls at the executor; call N+1 waits on the client until one ends', async () => {
    const executor = await start({ maxCallsPerConnection: 3, sessionTtlMs: 50 });
    const grpc = rawClient(executor.address);
    cleanups.push(async () => grpc.close());
    const calls = [rawSession(grpc), rawSession(grpc), rawSession(grpc)];
    await until(executor, (s) => s.sessionCalls === 3);
    const fourth = rawSession(grpc);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await executor.status()).sessionCalls).toBe(3);
    calls[0]!.cancel();
    expect(await fourth.open()).toMatch(/^[0-9a-f-]{36}$/);
    for (const call of [...calls, fourth]) call.cancel();
    await until(executor, (s) => s.sessionCalls === 0);
  });

  it('openTimeoutMs: a call that opens within it is served; one silent past it ends DEADLINE_EXCEEDED, counted in rejectedCalls', async () => {
    const executor = await start({ openTimeoutMs: 300 });
    const grpc = rawClient(executor.address);
    cleanups.push(async () => grpc.close());
    const silent = rawSession(grpc);
    const prompt = rawSession(grpc);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await prompt.open();
    expect(await silent.ended).toEqual({ code: Status.DEADLINE_EXCEEDED, details: 'no open message within 300 ms (openTimeoutMs)' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await executor.status()).toMatchObject({ sessionCalls: 1, activeSessions: 1, rejectedCalls: 1 });
    prompt.send({ id: 2, close: {} });
    prompt.call.end();
    expect((await prompt.ended).code).toBe(Status.OK);
    await until(executor, (s) => s.sessionCalls === 0);
  });

  it('maxPendingRequestsPerCall: 3 requests in progress, the 4th is refused naming the limit, answers free slots', async () => {
    const executor = await start({ maxPendingRequestsPerCall: 3 });
    const [client] = await clients(executor.address, 1);
    const numbers = await client!.createProxy<Numbers>('Numbers');
    const sleeping = [numbers.sleep(300), numbers.sleep(300), numbers.sleep(300)];
    await expect(numbers.sleep(1)).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED', message: expect.stringContaining('at its limit of 3 pending requests (maxPendingRequestsPerCall)') });
    expect(await Promise.all(sleeping)).toEqual(['slept', 'slept', 'slept']);
    expect(await numbers.sleep(1)).toBe('slept');
  });

  it('invalid limit options are refused naming the field', async () => {
    await expect(proxyExecutor({ maxSessions: 0 })).rejects.toMatchObject({ code: 'INVALID_PARAMS', field: 'maxSessions' });
    await expect(proxyExecutor({ sandboxMemoryLimitMb: 4 })).rejects.toMatchObject({ code: 'INVALID_PARAMS', field: 'sandboxMemoryLimitMb' });
    await expect(proxyExecutor({ maxPendingRequestsPerCall: 0 })).rejects.toMatchObject({ code: 'INVALID_PARAMS', field: 'maxPendingRequestsPerCall' });
    await expect(connect({ address: '127.0.0.1:1', batchSize: 0 })).rejects.toMatchObject({ code: 'INVALID_PARAMS', field: 'batchSize' });
  });
});
