/**
 * Flow control both ways (issue 11 §4): the executor stops granting credit while its client does not read, and
 * `remote()` is a pullable source for the boundary downstream of it.
 */
import { describe, expect, it } from 'vitest';
import { interval, lastValueFrom, map, take, toArray } from 'rxjs';
import { flowStats } from '../../src/flow/flowQueue.js';
import { mapAsync } from '../../src/flow/mapAsync.js';
import { fromAsyncIterable } from '../../src/flow/pullable.js';
import { passThrough } from '../../src/operators/core/passThrough.js';
import { encodePayload } from '../../src/remote/codec.js';
import type { StreamMessage } from '../../src/remote/gen/remotemedia.js';
import { remote, type ExecutorStatus } from '../../src/remote/index.js';
import { untilStatus, useTestExecutor, type TestExecutor } from './helpers/executors.js';
import { nonReadingCall } from './helpers/nonReadingClient.js';
import { open } from './helpers/rawClient.js';
import { fanOut } from './helpers/testNodes.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


/** The status once `inFlight` stopped changing (the transport took what it could). */
async function settled(executor: TestExecutor): Promise<ExecutorStatus> {
  let last = await executor.status();
  for (;;) {
    await sleep(150);
    const now = await executor.status();
    if (now.inFlight === last.inFlight && now.writeStalls === last.writeStalls) return now;
    last = now;
  }
}

const item = (seq: number): StreamMessage => ({ data: { seq, payload: Buffer.from(encodePayload(seq)) } });
// Each input becomes FAN_OUT outputs of 256 KiB: a window of items is more than the transport takes (64 KiB of HTTP/2
// window, socket buffers) when nobody reads, so the rest waits in gRPC's write buffer.
const FAN_OUT = 8;
const inflate = { type: 'test.inflate', params: { count: FAN_OUT, bytes: 256 * 1024 } };

describe('write backpressure on the executor', () => {
  const executors = useTestExecutor();

  it('a client that does not read gets no more credit; writeStalls counts the stall, inFlight shows the held items; reading resumes', async () => {
    const executor = await executors.start();
    const window = 4;
    const client = nonReadingCall(executor.address);
    try {
      client.write(open([inflate], window));
      for (let seq = 0; seq < window; seq++) client.write(item(seq));
      await untilStatus(executor, (s) => s.writeStalls >= 1);
      const stalled = await settled(executor);
      // Held: input items whose credit is withheld plus outputs gRPC has not handed to the transport: at most its
      // write buffer (16 messages) when the stall began plus the outputs of the window's items.
      expect(stalled.inFlight).toBeGreaterThan(0);
      expect(stalled.inFlight).toBeLessThanOrEqual(16 + window * (1 + FAN_OUT));
      expect(stalled.activeStreams).toBe(1);

      client.read();
      const credited = (): number => client.received.reduce((n, m) => n + (m.credit?.n ?? 0), 0);
      await untilStatus(executor, () => credited() >= 2 * window);
      // Credits came back once the client read: it may send its next window.
      for (let seq = window; seq < 2 * window; seq++) client.write(item(seq));
      client.end();
      expect(await client.status).toBe(0);
      expect(client.received.filter((m) => m.data !== undefined)).toHaveLength(2 * window * FAN_OUT);
      await untilStatus(executor, (s) => s.activeStreams === 0 && s.inFlight === 0);
    } finally {
      client.close();
    }
  });

  it('a non-reading client that sends beyond its credits is failed (RESOURCE_EXHAUSTED), not buffered without bound', async () => {
    const executor = await executors.start({ idleTimeoutMs: 1000 });
    const window = 4;
    const client = nonReadingCall(executor.address);
    try {
      client.write(open([inflate], window));
      // It assumes credit keeps coming, as it did before the executor honoured write backpressure.
      for (let seq = 0; seq < 200; seq++) client.write(item(seq));
      const failed = await untilStatus(executor, (s) => s.failedStreams === 1);
      expect(failed.writeStalls).toBeGreaterThanOrEqual(1);
      expect(failed.inFlight).toBeLessThanOrEqual(16 + window * (1 + FAN_OUT));
      // Outputs made before the failure: those of the first window and of at most one more window credited before the
      // stall, far from the 1600 the client asked for.
      expect(failed.nodes.find((n) => n.type === 'test.inflate')!.itemsOut).toBeLessThanOrEqual(16 + 2 * 4 * FAN_OUT);
    } finally {
      client.close();
    }
    await untilStatus(executor, (s) => s.activeStreams === 0 && s.inFlight === 0);
  });

  it('idleTimeoutMs closes a stream whose client never reads (queued writes are not activity) and frees its slot', async () => {
    const executor = await executors.start({ idleTimeoutMs: 400 });
    const client = nonReadingCall(executor.address);
    try {
      const start = performance.now();
      client.write(open([inflate], 4));
      for (let seq = 0; seq < 4; seq++) client.write(item(seq));
      await untilStatus(executor, (s) => s.writeStalls >= 1 && s.inFlight > 0 && s.activeStreams === 1);
      const closed = await untilStatus(executor, (s) => s.activeStreams === 0);
      expect(performance.now() - start).toBeGreaterThanOrEqual(390);
      expect(closed).toMatchObject({ inFlight: 0, failedStreams: 1 });
    } finally {
      client.close();
    }
  });

  it('a reading client keeps its stream alive past idleTimeoutMs while outputs flow', async () => {
    const executor = await executors.start({ idleTimeoutMs: 300 });
    const out = await lastValueFrom(interval(50).pipe(take(12), remote<number, number>({ address: executor.address, window: 2 }, passThrough()), toArray()));
    expect(out).toEqual([...Array(12).keys()]);
    expect((await executor.status()).failedStreams).toBe(0);
  });
});

describe('remote() is a pullable source for the boundary after it', () => {
  const executors = useTestExecutor();

  async function* counting(n: number, tally: { produced: number; consumed: number; peakGap: number }): AsyncGenerator<number> {
    for (let i = 0; i < n; i++) {
      tally.produced++;
      tally.peakGap = Math.max(tally.peakGap, tally.produced - tally.consumed);
      yield i;
    }
  }

  it("a mapAsync with 'block' after remote() is lossless with 10× more items than the window, in flight ≤ window", async () => {
    const executor = await executors.start();
    const window = 4;
    const size = 2;
    const label = 'flowControl.spec:after-remote';
    const tally = { produced: 0, consumed: 0, peakGap: 0 };
    const out = await lastValueFrom(
      fromAsyncIterable(counting(10 * window, tally)).pipe(
        remote<number, number>({ address: executor.address, window }, passThrough()),
        mapAsync(async (x: number) => (await sleep(2), x), { size, overflow: 'block', label }),
        map((x) => (tally.consumed++, x)),
        toArray(),
      ),
    );
    expect(out).toEqual([...Array(10 * window).keys()]);
    const stats = flowStats(label);
    expect(stats).toMatchObject({ received: 10 * window, delivered: 10 * window, dropped: 0, queued: 0, active: 0 });
    // remote() stops sending while mapAsync is busy: what it already sent (≤ window) is the downstream overshoot.
    expect(stats.peakQueued).toBeLessThanOrEqual(window);
    // window items on the wire or queued downstream + 1 in mapAsync + 1 being read by the source.
    expect(tally.peakGap).toBeLessThanOrEqual(window + 2);
  });

  it('with a fan-out chain the downstream overshoot stays within window × fan-out', async () => {
    const executor = await executors.start();
    const window = 2;
    const label = 'flowControl.spec:fan-out';
    const out = await lastValueFrom(
      fromAsyncIterable([...Array(20).keys()]).pipe(
        remote<number, number>({ address: executor.address, window }, fanOut({ count: 3 })),
        mapAsync(async (x: number) => (await sleep(1), x), { size: 1, overflow: 'block', label }),
        toArray(),
      ),
    );
    expect(out).toEqual([...Array(20).keys()].flatMap((x) => [x * 10, x * 10 + 1, x * 10 + 2]));
    expect(flowStats(label).peakQueued).toBeLessThanOrEqual(window * 3);
    expect(flowStats(label).dropped).toBe(0);
  });

  it("a push source before remote() meets remote()'s own overflow policy, never the downstream boundary's", async () => {
    const executor = await executors.start();
    const downstream = 'flowControl.spec:push';
    const out = await lastValueFrom(
      interval(1).pipe(
        take(100),
        remote<number, number>({ address: executor.address, window: 2, overflow: 'drop-oldest' }, passThrough()),
        mapAsync(async (x: number) => (await sleep(5), x), { size: 1, overflow: 'block', label: downstream }),
        toArray(),
      ),
    );
    // Lossy at remote()'s local queue (a push source cannot pause), in order, and never an OVERFLOW downstream.
    expect(out.length).toBeGreaterThan(0);
    expect(out).toEqual([...out].sort((a, b) => a - b));
    expect(out.at(-1)).toBe(99);
    expect(flowStats(downstream).dropped).toBe(0);
    expect(flowStats(`remote(${executor.address})`).dropped).toBeGreaterThan(0);
  });
});
