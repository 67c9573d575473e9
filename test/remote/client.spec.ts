/**
 * Client-side behaviour of remote(): config validation, cold start, overflow policies for push sources, and release
 * of every local resource on complete, error and unsubscribe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, map, NEVER, of, range, Subject, throwError, toArray } from 'rxjs';
import { RemoteMediaError } from '../../src/errors.js';
import { flowStats } from '../../src/flow/flowQueue.js';
import { passThrough } from '../../src/operators/core/passThrough.js';
import { openChannelCount } from '../../src/remote/channelPool.js';
import { remote, type RemoteNode } from '../../src/remote/index.js';
import { inProcessExecutor, type TestExecutor } from './helpers/executors.js';
import { runningSum } from './helpers/testNodes.js';

describe('remote() client', () => {
  let executor: TestExecutor;
  beforeAll(async () => {
    executor = await inProcessExecutor();
  });
  afterAll(async () => {
    await executor?.close();
  });

  it('validates its config and nodes, naming the field', () => {
    expect(() => remote({}, passThrough())).toThrow(expect.objectContaining({ code: 'INVALID_PARAMS', field: 'address' }));
    expect(() => remote({ address: 'h:1', window: 0 }, passThrough())).toThrow(expect.objectContaining({ field: 'window' }));
    expect(() => remote({ address: 'h:1', overflow: 'spill' as 'block' }, passThrough())).toThrow(expect.objectContaining({ field: 'overflow' }));
    expect(() => remote({ address: 'h:1' }, map((x) => x) as unknown as RemoteNode)).toThrow(expect.objectContaining({ field: 'nodes[0]' }));
  });

  it('is cold: nothing connects before subscribe', () => {
    const operator = remote({ address: executor.address }, passThrough());
    of(1).pipe(operator);
    expect(openChannelCount()).toBe(0);
  });

  it("a push source over the window with overflow 'block' is kept lossless (issue #13: from(xs) past 16 items)", async () => {
    const out = await lastValueFrom(range(0, 40).pipe(remote<number, number>({ address: executor.address, window: 4 }, passThrough()), toArray()));
    expect(out).toEqual(Array.from({ length: 40 }, (_, i) => i));
    await new Promise((r) => setTimeout(r, 50));
    expect(openChannelCount()).toBe(0);
  });

  it("'drop-newest' keeps the first window items, 'drop-oldest' the last, and both count drops", async () => {
    const label = `remote(${executor.address})`;
    const before = flowStats(label).dropped;
    const newest = await lastValueFrom(range(0, 40).pipe(remote({ address: executor.address, window: 4, overflow: 'drop-newest' }, passThrough()), toArray()));
    expect(newest).toEqual([0, 1, 2, 3]);
    const oldest = await lastValueFrom(range(0, 40).pipe(remote({ address: executor.address, window: 4, overflow: 'drop-oldest' }, passThrough()), toArray()));
    expect(oldest).toEqual([36, 37, 38, 39]);
    expect(flowStats(label).dropped - before).toBe(72);
  });

  it('an upstream error is forwarded unchanged and the call is cancelled', async () => {
    const boom = new RemoteMediaError('IO', 'disk gone');
    const error = await lastValueFrom(throwError(() => boom).pipe(remote({ address: executor.address }, runningSum({})))).catch((e: unknown) => e);
    expect(error).toBe(boom);
    expect(openChannelCount()).toBe(0);
    await waitForIdle(executor);
  });

  it('releases the channel and the executor stream on unsubscribe before the stream even opened', async () => {
    const subscription = NEVER.pipe(remote({ address: executor.address }, runningSum({}))).subscribe();
    expect(openChannelCount()).toBe(1);
    subscription.unsubscribe();
    expect(openChannelCount()).toBe(0);
    await waitForIdle(executor);
  });

  it('each subscription has its own stream and chain state', async () => {
    const sums = of(1, 2, 3).pipe(remote<number, number>({ address: executor.address }, runningSum({})), toArray());
    expect(await Promise.all([lastValueFrom(sums), lastValueFrom(sums)])).toEqual([
      [1, 3, 6],
      [1, 3, 6],
    ]);
  });

  it('an empty input completes with no output after the end round trip', async () => {
    const input = new Subject<number>();
    const out = lastValueFrom(input.pipe(remote({ address: executor.address }, runningSum({})), toArray()));
    input.complete();
    expect(await out).toEqual([]);
  });
});

async function waitForIdle(executor: TestExecutor): Promise<void> {
  const start = performance.now();
  while ((await executor.status()).activeStreams !== 0) {
    if (performance.now() - start > 1000) throw new Error('executor stream not freed within 1 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}
