/**
 * Sessions: nothing hangs when the connection drops, objects survive a reconnect within the TTL and are disposed
 * after it, an expired session is named in the error, and auth and --no-code are enforced.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, RemoteMediaError, SessionNotFoundError, type RemoteClient } from '../../src/index.js';
import type { Counter, Numbers } from './fixtures/registered.js';
import { childProxyExecutor, proxyExecutor, type ProxyExecutor } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Parameters<typeof proxyExecutor>[0] = {}): Promise<ProxyExecutor> {
  const executor = await proxyExecutor(options);
  cleanups.push(async () => {
    await executor.expectEmpty();
    await executor.close();
  });
  return executor;
}

function track(client: RemoteClient): RemoteClient {
  cleanups.push(() => client.close());
  return client;
}

/** Cuts the client's Session call as a network failure would (the executor sees a cancelled call). */
function dropConnection(client: RemoteClient): void {
  const channel = (client as unknown as { channel: { call?: { cancel(): void } } }).channel;
  channel.call!.cancel();
}

class Shipped {
  n = 5;
  bump(): number {
    return ++this.n;
  }
}

describe('proxy sessions', () => {
  it('a pending call rejects at once with UNAVAILABLE when the executor process is killed', async () => {
    const executor = await childProxyExecutor();
    cleanups.push(() => executor.kill());
    const client = track(await connect({ address: executor.address }));
    const numbers = await client.createProxy<Numbers>('Numbers');
    const pending = numbers.sleep(60_000).catch((e: unknown) => e);
    const other = numbers.sleep(60_000).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const killedAt = performance.now();
    await executor.kill();
    const [error, error2] = await Promise.all([pending, other]);
    expect(performance.now() - killedAt).toBeLessThan(1000);
    expect(error).toBeInstanceOf(RemoteMediaError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE' });
    expect(error2).toMatchObject({ code: 'UNAVAILABLE' });
    // Later calls fail fast too (reconnect refused), they do not hang.
    await expect(numbers.sleep(1)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('a dropped session rejects pending calls, then resumes within the TTL with its objects and their state', async () => {
    const executor = await start({ sessionTtlMs: 5_000 });
    const client = track(await connect({ address: executor.address }));
    const counter = await client.createProxy<Counter>('Counter', 10);
    const shipped = await client.createProxy(Shipped);
    expect(await counter.increment()).toBe(11);
    const numbers = await client.createProxy<Numbers>('Numbers');
    const pending = numbers.sleep(60_000).catch((e: unknown) => e);
    dropConnection(client);
    expect(await pending).toMatchObject({ code: 'CANCELLED' });
    // The executor kept the session: the next call reconnects and finds the objects as they were.
    expect(await counter.increment()).toBe(12);
    expect(await shipped.bump()).toBe(6);
    const status = await executor.status();
    expect(status.activeSessions).toBe(1);
    expect(status.activeObjects).toBe(3);
  });

  it('after the TTL the objects are disposed and the error names the session', async () => {
    const executor = await start({ sessionTtlMs: 100 });
    const client = track(await connect({ address: executor.address }));
    const counter = await client.createProxy<Counter>('Counter', 1);
    const sessionId = (client as unknown as { channel: { sessionId: string } }).channel.sessionId;
    dropConnection(client);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await executor.status()).activeObjects).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await executor.status()).toMatchObject({ activeSessions: 0, activeObjects: 0 });
    const error = await counter.increment().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionNotFoundError);
    expect((error as Error).message).toContain(`Session not found: '${sessionId}'`);
    // The client starts a fresh session for new objects; the old proxy names its missing object.
    const fresh = await client.createProxy<Counter>('Counter', 7);
    expect(await fresh.increment()).toBe(8);
    await expect(counter.increment()).rejects.toThrow(/Object not found: 'o\d+' in session/);
  });

  it('closing the client disposes the session at once (no TTL wait)', async () => {
    const executor = await start({ sessionTtlMs: 60_000 });
    const client = await connect({ address: executor.address });
    await client.createProxy<Counter>('Counter');
    await client.createProxy(Shipped);
    await client.close();
    expect(await executor.status()).toMatchObject({ activeSessions: 0, activeObjects: 0 });
  });

  it('a missing or wrong token gets UNAUTHENTICATED; the right one works', async () => {
    const token = 'a-token-of-sixteen-chars';
    const executor = await start({ token });
    await expect(connect({ address: executor.address })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(connect({ address: executor.address, token: 'wrong-token-of-enough-length' })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const client = track(await connect({ address: executor.address, token }));
    const counter = await client.createProxy<Counter>('Counter', 1);
    expect(await counter.increment()).toBe(2);
    await client.close();
    const status = await import('../../src/index.js').then((m) => m.executorStatus({ address: executor.address, token }));
    expect(status).toMatchObject({ activeSessions: 0, activeObjects: 0 });
    cleanups.pop();
  });

  it('--no-code refuses shipped classes; registered classes still work', async () => {
    const executor = await start({ code: false });
    const client = track(await connect({ address: executor.address }));
    await expect(client.createProxy(Shipped)).rejects.toThrow(/does not run shipped code \(--no-code\)/);
    const counter = await client.createProxy<Counter>('Counter', 1);
    expect(await counter.increment()).toBe(2);
  });

  it('--no-proxies refuses the Session call', async () => {
    const executor = await start({ proxies: false });
    await expect(connect({ address: executor.address })).rejects.toThrow(/does not serve object proxies/);
  });
});
