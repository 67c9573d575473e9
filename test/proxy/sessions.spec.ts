/**
 * Sessions: nothing hangs when the connection drops, objects survive a reconnect within the TTL and are disposed
 * after it, an expired session is named in the error, and auth and --no-code are enforced.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, RemoteMediaError, SessionNotFoundError, type RemoteClient } from '../../src/index.js';
import type { Counter, Numbers } from './fixtures/registered.js';
import { decodePayload } from '../../src/remote/codec.js';
import { childProxyExecutor, proxyExecutor, ROOT, type ProxyExecutor } from './helpers.js';
import { callRequest, createRequest, InvokeOp, rawClient, rawSession, Status } from './rawSession.js';

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

  it('resuming a session while its old call is open: the new call takes it over, the old one is ended and its end expires nothing', async () => {
    const executor = await start({ sessionTtlMs: 100 });
    const grpc = rawClient(executor.address);
    cleanups.push(async () => grpc.close());
    const first = rawSession(grpc);
    const id = await first.open();
    const objectId = (await first.ask(createRequest(2, 'Counter', [1]))).result!.handle;
    const second = rawSession(grpc);
    expect(await second.open(id)).toBe(id);
    expect(await first.ended).toEqual({ code: Status.FAILED_PRECONDITION, details: 'session resumed on another call; this call is closed' });
    // Well past the TTL: the old call's end must not have detached the session the new call holds.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await executor.status()).toMatchObject({ activeSessions: 1, activeObjects: 1, sessionCalls: 1 });
    expect(decodePayload((await second.ask(callRequest(3, objectId, 'increment'))).result!.value)).toBe(2);
    second.send({ id: 4, close: {} });
    second.call.end();
    expect((await second.ended).code).toBe(Status.OK);
  });

  it('hostile requests get an error each and harm nothing: reused ids, huge batchSize, another session\'s object, bad args, unknown op', async () => {
    const executor = await start({ sessionTtlMs: 50 });
    const grpc = rawClient(executor.address);
    cleanups.push(async () => grpc.close());
    const victim = rawSession(grpc);
    await victim.open();
    const victimObject = (await victim.ask(createRequest(2, 'Counter', [10]))).result!.handle;
    const attacker = rawSession(grpc);
    await attacker.open();
    // Another session's object: not found (ids are looked up in the caller's own session only).
    const stolen = await attacker.ask(callRequest(2, victimObject, 'increment'));
    expect(stolen.error).toMatchObject({ name: 'SessionNotFoundError', message: expect.stringMatching(/^Object not found: 'o\d+' in session/) });
    // The same id twice: both are answered, each with its own result.
    const numbers = (await attacker.ask(createRequest(3, 'Numbers'))).result!.handle;
    attacker.send(callRequest(7, numbers, 'sleep', [1]));
    attacker.send(callRequest(7, numbers, 'sleep', [1]));
    const twice = [await attacker.next(), await attacker.next()];
    expect(twice.map((r) => [r.id, decodePayload(r.result!.value)])).toEqual([
      [7, 'slept'],
      [7, 'slept'],
    ]);
    // batchSize 4e9 is clamped (1024 per pull), not allocated.
    const iterator = (await attacker.ask(callRequest(8, numbers, 'count', [3]))).result!.handle;
    const pulled = await attacker.ask({ id: 9, invoke: { objectId: numbers, op: InvokeOp.INVOKE_OP_NEXT, name: iterator, args: Buffer.alloc(0), batchSize: 4_000_000_000 } });
    expect(decodePayload(pulled.result!.value)).toEqual([0, 1, 2]);
    // Args that are not a msgpack array, and an op that does not exist.
    const badArgs = await attacker.ask({ id: 10, invoke: { objectId: numbers, op: InvokeOp.INVOKE_OP_CALL, name: 'sleep', args: Buffer.from([0x2a]), batchSize: 0 } });
    expect(badArgs.error).toMatchObject({ code: 'INVALID_INPUT' });
    const badOp = await attacker.ask({ id: 11, invoke: { objectId: numbers, op: 99 as InvokeOp, name: 'x', args: Buffer.alloc(0), batchSize: 0 } });
    expect(badOp.error).toMatchObject({ code: 'PROTOCOL', message: 'protocol: unknown invoke op 99' });
    // The victim's object is untouched.
    expect(decodePayload((await victim.ask(callRequest(3, victimObject, 'increment'))).result!.value)).toBe(11);
    for (const call of [victim, attacker]) call.cancel();
  });

  it('a message over maxMessageBytes (huge create args) ends the call RESOURCE_EXHAUSTED; the session waits out its TTL', async () => {
    const executor = await start({ sessionTtlMs: 50, maxMessageBytes: 64 * 1024 });
    const grpc = rawClient(executor.address);
    cleanups.push(async () => grpc.close());
    const call = rawSession(grpc);
    await call.open();
    call.send(createRequest(2, 'Counter', [new Uint8Array(64 * 1024)]));
    expect((await call.ended).code).toBe(Status.RESOURCE_EXHAUSTED);
    const fine = rawSession(grpc);
    await fine.open();
    expect((await fine.ask(createRequest(2, 'Counter', [0, new Uint8Array(60 * 1024)]))).result!.handle).toMatch(/^o\d+$/);
    fine.cancel();
  });

  it('errors to a caller without a token carry a code and a short message: no stack, no path (errorStacks: authenticated)', async () => {
    const open = await start();
    const client = track(await connect({ address: open.address }));
    const counter = await client.createProxy<Counter>('Counter', 3);
    const error = (await counter.fail().catch((e: unknown) => e)) as RemoteMediaError;
    expect(error).toMatchObject({ code: 'NODE_FAILED', message: expect.stringContaining('counter at 3 refuses') });
    expect(error.remoteStack).toBeUndefined();
    const leaked = (await counter.leak().catch((e: unknown) => e)) as RemoteMediaError;
    expect(leaked.message).toContain('cannot read <path>');
    expect(leaked.message).not.toContain(ROOT);
    expect(leaked.remoteStack).toBeUndefined();

    const token = 'a-token-of-sixteen-chars';
    const authed = await start({ token });
    const trusted = track(await connect({ address: authed.address, token }));
    const error2 = (await (await trusted.createProxy<Counter>('Counter', 3)).fail().catch((e: unknown) => e)) as RemoteMediaError;
    expect(error2.remoteStack).toMatch(/RangeError: counter at 3 refuses\n\s+at Counter.fail/);
    await trusted.close();
  });

  it('--no-proxies refuses the Session call', async () => {
    const executor = await start({ proxies: false });
    await expect(connect({ address: executor.address })).rejects.toThrow(/does not serve object proxies/);
  });
});
