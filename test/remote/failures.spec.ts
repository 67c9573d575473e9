/**
 * A lost executor never hangs a client: unreachable, silent, killed or stopped executors error within `deadlineMs`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { interval, lastValueFrom, Observable, take, toArray } from 'rxjs';
import { fromAsyncIterable } from '../../src/flow/pullable.js';
import { remote } from '../../src/remote/index.js';
import { openChannelCount } from '../../src/remote/channelPool.js';
import { childExecutor, type TestExecutor } from './helpers/executors.js';
import { runningSum } from './helpers/testNodes.js';

async function timeToError(source: Observable<unknown>): Promise<{ ms: number; error: unknown; items: unknown[] }> {
  const start = performance.now();
  const items: unknown[] = [];
  const error = await new Promise<unknown>((resolve) => {
    source.subscribe({ next: (x) => items.push(x), error: resolve, complete: () => resolve(new Error('completed instead of failing')) });
  });
  return { ms: performance.now() - start, error, items };
}

async function listen(onSocket: (socket: Socket) => void = () => undefined): Promise<{ server: Server; address: string }> {
  const server = createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, address: `127.0.0.1:${port}` };
}

describe('remote() with a lost executor', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('unreachable executor (connection refused): errors UNAVAILABLE well within deadlineMs', async () => {
    const { server, address } = await listen();
    await new Promise((resolve) => server.close(resolve)); // the port is now free: nobody listens
    const { ms, error } = await timeToError(fromAsyncIterable([1, 2]).pipe(remote({ address, deadlineMs: 2000 }, runningSum({}))));
    expect(error).toMatchObject({ code: 'UNAVAILABLE' });
    expect((error as Error).message).toContain(address);
    expect(ms).toBeLessThan(2000);
    expect(openChannelCount()).toBe(0);
  });

  it('a peer that accepts TCP but never answers: errors DEADLINE_EXCEEDED at deadlineMs, never hangs', async () => {
    const sockets: Socket[] = [];
    const { server, address } = await listen((socket) => sockets.push(socket));
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const { ms, error } = await timeToError(fromAsyncIterable([1]).pipe(remote({ address, deadlineMs: 300 }, runningSum({}))));
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect((error as Error).message).toContain('300 ms');
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(300 + 200);
  });

  it('executor killed mid-stream: errors UNAVAILABLE within deadlineMs', async () => {
    const executor: TestExecutor = await childExecutor();
    cleanups.push(() => executor.close());
    const source = interval(5).pipe(take(1000));
    let killedAt = 0;
    const run = timeToError(
      new Observable((subscriber) =>
        source.pipe(remote({ address: executor.address, deadlineMs: 1000, overflow: 'drop-oldest' }, runningSum({}))).subscribe({
          next: (x) => {
            subscriber.next(x);
            if (killedAt === 0) {
              killedAt = performance.now();
              executor.child!.kill('SIGKILL');
            }
          },
          error: (e: unknown) => subscriber.error(e),
          complete: () => subscriber.complete(),
        }),
      ),
    );
    const { error, items } = await run;
    expect(items.length).toBeGreaterThan(0);
    expect(error).toMatchObject({ code: 'UNAVAILABLE' });
    expect(performance.now() - killedAt).toBeLessThan(1000);
  });

  it('executor stopped (SIGSTOP) mid-stream: errors DEADLINE_EXCEEDED within deadlineMs', async () => {
    const executor = await childExecutor();
    cleanups.push(async () => {
      executor.child!.kill('SIGCONT');
      await executor.close();
    });
    const first = await lastValueFrom(fromAsyncIterable([1, 2]).pipe(remote({ address: executor.address }, runningSum({})), toArray()));
    expect(first).toEqual([1, 3]);
    let stoppedAt = 0;
    const { error } = await timeToError(
      new Observable((subscriber) => {
        const sub = interval(5).pipe(remote({ address: executor.address, deadlineMs: 400, overflow: 'drop-oldest' }, runningSum({}))).subscribe(subscriber);
        const timer = setTimeout(() => {
          stoppedAt = performance.now();
          executor.child!.kill('SIGSTOP');
        }, 50);
        return () => {
          clearTimeout(timer);
          sub.unsubscribe();
        };
      }),
    );
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    const ms = performance.now() - stoppedAt;
    expect(ms).toBeLessThan(400 + 150);
  });
});
