import { Readable } from 'node:stream';
import { lastValueFrom, range, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { OverflowError } from '../../src/errors.js';
import { flowStats, FlowQueue, PUSH_SOURCE_LIMITS } from '../../src/flow/flowQueue.js';
import { mapAsync } from '../../src/flow/mapAsync.js';
import { fromAsyncIterable, fromReadable } from '../../src/flow/pullable.js';
import { bounded } from '../../src/operators/core/bounded.js';

const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A source that yields as fast as it is asked, counting what it produced. */
function countingSource(n: number) {
  const state = { produced: 0, finallyRan: false };
  async function* gen(): AsyncGenerator<number> {
    try {
      for (let i = 0; i < n; i++) {
        state.produced++;
        yield i;
      }
    } finally {
      state.finallyRan = true;
    }
  }
  return { state, source: fromAsyncIterable(gen()) };
}

describe('flow control: pullable source → bounded → slow async consumer', () => {
  it('keeps at most size items queued (+ the one being processed) and loses nothing with block', async () => {
    const { state, source } = countingSource(200);
    let consumed = 0;
    let maxInFlight = 0;
    const out = await lastValueFrom(
      source.pipe(
        bounded({ size: 8, overflow: 'block', label: 'test.pull.block' }),
        mapAsync(async (x: number) => {
          maxInFlight = Math.max(maxInFlight, state.produced - consumed);
          await tick(1); // ~100× slower than the generator, which yields in microseconds
          consumed++;
          return x;
        }),
        toArray(),
      ),
    );
    expect(out).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(maxInFlight).toBeGreaterThan(1); // the queue really filled up
    expect(maxInFlight).toBeLessThanOrEqual(8 + 1);
    const stats = flowStats('test.pull.block');
    expect(stats.peakQueued).toBeLessThanOrEqual(8);
    expect(stats).toMatchObject({ received: 200, delivered: 200, dropped: 0, overshoot: 0, queued: 0, active: 0 });
  });

  it('a pullable source straight into mapAsync reads only when a worker is free', async () => {
    const { state, source } = countingSource(50);
    let running = 0;
    let maxAhead = 0;
    let done = 0;
    await lastValueFrom(
      source.pipe(
        mapAsync(
          async (x: number) => {
            running++;
            maxAhead = Math.max(maxAhead, state.produced - done);
            await tick(1);
            running--;
            done++;
            return x;
          },
          { concurrency: 3 },
        ),
        toArray(),
      ),
    );
    expect(done).toBe(50);
    expect(maxAhead).toBeLessThanOrEqual(3);
    expect(running).toBe(0);
  });

  it('unsubscribing stops the source (its finally runs) and releases the queue', async () => {
    const { state, source } = countingSource(1_000_000);
    const seen: number[] = [];
    const sub = source
      .pipe(
        bounded({ size: 4, label: 'test.pull.unsub' }),
        mapAsync(async (x: number) => {
          await tick(1);
          return x;
        }),
      )
      .subscribe((x) => seen.push(x));
    await tick(30);
    sub.unsubscribe();
    await tick(10);
    expect(seen.length).toBeGreaterThan(0);
    expect(state.produced).toBeLessThan(seen.length + 4 + 3);
    expect(state.finallyRan).toBe(true);
    expect(flowStats('test.pull.unsub')).toMatchObject({ active: 0, queued: 0 });
  });

  it('fromReadable pauses a Node stream: reads stay within the window', async () => {
    let reads = 0;
    const readable = new Readable({
      objectMode: true,
      highWaterMark: 2,
      read() {
        reads++;
        this.push(reads <= 100 ? reads : null);
      },
    });
    let consumed = 0;
    let maxAhead = 0;
    const out = await lastValueFrom(
      fromReadable<number>(readable).pipe(
        bounded({ size: 4 }),
        mapAsync(async (x: number) => {
          maxAhead = Math.max(maxAhead, reads - consumed);
          await tick(1);
          consumed++;
          return x;
        }),
        toArray(),
      ),
    );
    expect(out).toHaveLength(100);
    // bounded (4) + worker (1) + the stream's own highWaterMark (2) + the read in progress
    expect(maxAhead).toBeLessThanOrEqual(4 + 1 + 2 + 1);
  });
});

describe('flow control: push source overrunning a slow consumer', () => {
  /** Pushes `total` 20 ms frames (640 floats) at 10 per macrotask; the consumer takes 1 per macrotask. */
  async function overrun(overflow: 'drop-oldest' | 'drop-newest', label: string, total: number) {
    const subject = new Subject<{ seq: number; samples: Float32Array }>();
    const delivered: number[] = [];
    let completed = false;
    subject
      .pipe(
        bounded({ size: 32, overflow, label }),
        mapAsync(async (frame: { seq: number }) => {
          await tick(0);
          return frame.seq;
        }),
      )
      .subscribe({ next: (seq) => delivered.push(seq), complete: () => (completed = true) });
    globalThis.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let heapPeak = heapBefore;
    for (let seq = 0; seq < total; seq++) {
      subject.next({ seq, samples: new Float32Array(640) });
      if (seq % 10 === 9) {
        await tick(0);
        if (seq % 1000 === 999) {
          globalThis.gc?.();
          heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
        }
      }
    }
    subject.complete();
    while (!completed) await tick(1);
    return { delivered, heapGrowth: heapPeak - heapBefore };
  }

  it('drop-oldest keeps memory bounded, counts every drop and delivers the newest items', async () => {
    const total = 20_000; // 20k × 2.5 kB = 50 MB if anything kept them all
    const { delivered, heapGrowth } = await overrun('drop-oldest', 'test.push.oldest', total);
    const stats = flowStats('test.push.oldest');
    expect(stats.received).toBe(total);
    expect(stats.dropped).toBeGreaterThan(total / 2);
    expect(stats.delivered + stats.dropped).toBe(total);
    expect(delivered).toHaveLength(stats.delivered);
    expect(stats.peakQueued).toBe(32);
    expect(delivered.at(-1)).toBe(total - 1); // the newest survives
    expect(delivered).toEqual([...delivered].sort((a, b) => a - b)); // order kept
    expect(heapGrowth).toBeLessThan(10 * 1024 * 1024);
  });

  it('drop-newest keeps the oldest queued items and discards arrivals', async () => {
    const { delivered } = await overrun('drop-newest', 'test.push.newest', 2_000);
    const stats = flowStats('test.push.newest');
    expect(stats.delivered + stats.dropped).toBe(2_000);
    expect(stats.dropped).toBeGreaterThan(0);
    expect(delivered.slice(0, 32)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(delivered.at(-1)).toBeLessThan(1_999);
  });

  it("'block' keeps a push source that cannot pause lossless past its size (overshoot counted)", async () => {
    const label = 'push-overrun-lossless';
    const out = await lastValueFrom(range(0, 500).pipe(bounded({ size: 2, overflow: 'block', label }), mapAsync((x: number) => tick(0).then(() => x)), toArray()));
    expect(out).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(flowStats(label)).toMatchObject({ received: 500, delivered: 500, dropped: 0 });
    expect(flowStats(label).overshoot).toBeGreaterThan(400);
  });

  it('a push source may overrun a block queue by PUSH_SOURCE_LIMITS items and bytes (N ok), N+1 is OVERFLOW naming a pullable source', () => {
    const queue = new FlowQueue<number>({ size: 2, overflow: 'block', node: 'core.bounded', label: 'push-cap-items', pushLimits: { maxItems: 3, maxBytes: 1e6 } });
    for (let i = 0; i < 5; i++) queue.offer(i, false);
    expect(queue.length).toBe(5);
    expect(() => queue.offer(5, false)).toThrow(OverflowError);
    expect(() => queue.offer(5, false)).toThrow(/overran this queue \(size 2\) by 3 items.*caps 3 items.*pullable source \(fromWavFile, fromAsyncIterable\)/);
    queue.shift();
    queue.offer(5, false);
    expect(queue.length).toBe(5);
    queue.close();
    const bytes = new FlowQueue<Float32Array>({ size: 1, overflow: 'block', node: 'core.bounded', label: 'push-cap-bytes', pushLimits: { maxItems: 100, maxBytes: 4096 } });
    for (let i = 0; i < 4; i++) bytes.offer(new Float32Array(256), false);
    expect(() => bytes.offer(new Float32Array(1), false)).toThrow(/OVERFLOW|overran/);
    bytes.close();
    expect(PUSH_SOURCE_LIMITS).toEqual({ maxItems: 65_536, maxBytes: 64 * 1024 * 1024 });
  });

  it("'error' fails as soon as the queue is full", async () => {
    const subject = new Subject<number>();
    const result = lastValueFrom(subject.pipe(bounded({ size: 3, overflow: 'error' }), mapAsync(() => tick(5))));
    for (let i = 0; i < 5; i++) subject.next(i);
    await expect(result).rejects.toMatchObject({ code: 'OVERFLOW', message: expect.stringContaining('size 3') });
  });
});
