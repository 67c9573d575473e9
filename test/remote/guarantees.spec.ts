/**
 * The guarantees of issue 4 §3, each against a real executor on loopback, in-process and in a child process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { interval, lastValueFrom, map, pipe, take, tap, toArray, type Observable, type OperatorFunction } from 'rxjs';
import { RemoteMediaError } from '../../src/errors.js';
import { fromAsyncIterable } from '../../src/flow/pullable.js';
import type { AudioFrame } from '../../src/media/audioFrame.js';
import { audioBuffer } from '../../src/operators/audio/audioBuffer.js';
import { energyVad } from '../../src/operators/audio/energyVad.js';
import { calculator } from '../../src/operators/core/calculator.js';
import { remote } from '../../src/remote/index.js';
import { openChannelCount } from '../../src/remote/channelPool.js';
import { childExecutor, inProcessExecutor, type TestExecutor } from './helpers/executors.js';
import { failOn, fanOut, liveResources, resource, runningSum, slowEcho, sumEvery } from './helpers/testNodes.js';

const collect = <T>(source: Observable<T>): Promise<T[]> => lastValueFrom(source.pipe(toArray()));

async function waitFor(check: () => Promise<boolean>, withinMs: number): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > withinMs) throw new Error(`condition not met within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - start;
}

const frames = (lengths: number[], sampleRate = 16000): AudioFrame[] => {
  let pts = 0;
  return lengths.map((n, k) => {
    const samples = new Float32Array(n).map((_, i) => Math.sin((k * 31 + i) / 7) * (k % 3 === 0 ? 0.001 : 0.5));
    const frame = { samples, sampleRate, channels: 1, pts };
    pts += (n * 1_000_000) / sampleRate;
    return frame;
  });
};

describe.each(['in-process', 'child'] as const)('remote() guarantees, %s executor', (kind) => {
  let executor: TestExecutor;
  // Stacks on: these executors have no token, and the error tests check the remote stack (see errorStacks).
  const start = (flags: string[] = []): Promise<TestExecutor> =>
    kind === 'in-process' ? inProcessExecutor({ errorStacks: 'always' }) : childExecutor(['--error-stacks', 'always', ...flags]);
  beforeAll(async () => {
    executor = await start();
  });
  afterAll(async () => {
    await executor?.close();
  });

  it('preserves order and equals running the same nodes locally (numbers, property)', async () => {
    const chain = [runningSum({}), calculator({ operation: 'multiply', operand: 3 }), fanOut({ count: 2 })] as const;
    const local = pipe(...(chain as unknown as [OperatorFunction<number, number>, OperatorFunction<number, number>, OperatorFunction<number, number>]));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 80 }), fc.integer({ min: 1, max: 8 }), async (values, window) => {
        const expected = await collect(fromAsyncIterable(values).pipe(local));
        const actual = await collect(fromAsyncIterable(values).pipe(remote<number, number>({ address: executor.address, window }, ...chain)));
        expect(actual).toEqual(expected);
      }),
      { numRuns: 15 },
    );
  });

  it('preserves order and equals running the same nodes locally (audio, property)', async () => {
    const chain = () => [audioBuffer({ samples: 160 }), energyVad({ frameMs: 10 })] as const;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 25 }), async (lengths) => {
        const [a, b] = chain();
        const expected = await collect(fromAsyncIterable(frames(lengths)).pipe(a, b));
        const actual = await collect(fromAsyncIterable(frames(lengths)).pipe(remote<AudioFrame, AudioFrame>({ address: executor.address }, ...chain())));
        expect(actual).toEqual(expected);
      }),
      { numRuns: 10 },
    );
  });

  it('flush on complete crosses the wire: the audioBuffer remainder arrives before completion', async () => {
    const out = await collect(fromAsyncIterable(frames([100, 100, 50])).pipe(remote<AudioFrame, AudioFrame>({ address: executor.address }, audioBuffer({ samples: 80 }))));
    expect(out.map((f) => f.samples.length)).toEqual([80, 80, 80, 10]);
    expect(out.map((f) => f.pts)).toEqual([0, 5000, 10000, 15000]);
  });

  it('streaming nodes: running sum, one → many, many → one', async () => {
    const address = executor.address;
    expect(await collect(fromAsyncIterable([100, 1, 2, 3, 4]).pipe(remote<number, number>({ address }, runningSum({}))))).toEqual([100, 101, 103, 106, 110]);
    expect(await collect(fromAsyncIterable([1, 2]).pipe(remote<number, number>({ address }, fanOut({ count: 3 }))))).toEqual([10, 11, 12, 20, 21, 22]);
    expect(await collect(fromAsyncIterable([1, 2, 3, 4, 5]).pipe(remote<number, number>({ address, window: 1 }, sumEvery({ n: 2 }))))).toEqual([3, 7, 5]);
  });

  it('errors arrive as RemoteMediaError with code, node type and remote stack; the executor keeps serving', async () => {
    const seen: number[] = [];
    const error = await collect(fromAsyncIterable([1, 2, 3, 4]).pipe(remote<number, number>({ address: executor.address, window: 1 }, failOn({ failOn: 3 })), tap((x) => seen.push(x)))).catch((e: unknown) => e);
    expect(seen).toEqual([1, 2]);
    expect(error).toBeInstanceOf(RemoteMediaError);
    expect(error).toMatchObject({ code: 'NODE_FAILED', node: 'test.fail' });
    expect((error as Error).message).toContain('test.fail: boom at 3');
    expect((error as RemoteMediaError).remoteStack).toContain('boom at 3');
    expect((error as RemoteMediaError).remoteStack).toContain('testNodes.ts');

    const divide = await collect(fromAsyncIterable([1]).pipe(remote({ address: executor.address }, calculator({ operation: 'divide', operand: 0 })))).catch((e: unknown) => e);
    expect(divide).toMatchObject({ code: 'DIVISION_BY_ZERO', node: 'core.calculator' });

    expect(await collect(fromAsyncIterable([5]).pipe(remote({ address: executor.address }, runningSum({}))))).toEqual([5]);
    expect((await executor.status()).nodes.find((n) => n.type === 'test.fail')?.errors).toBeGreaterThanOrEqual(1);
  });

  it('unsubscribing cancels the call and the executor frees the pipeline within 1 s', async () => {
    let liveWhileRunning = 0;
    const received = await lastValueFrom(
      interval(2).pipe(remote<number, number>({ address: executor.address, overflow: 'drop-oldest' }, resource({})), tap(() => (liveWhileRunning = liveResources.count)), take(3), toArray()),
    );
    expect(received).toEqual([0, 1, 2]);
    const freedAfterMs = await waitFor(async () => {
      const status = await executor.status();
      return status.activeStreams === 0 && status.nodes.find((n) => n.type === 'test.resource')?.active === 0;
    }, 1000);
    expect(freedAfterMs).toBeLessThan(1000);
    // In-process, the executor's node instances live in this process: their close() has run.
    if (kind === 'in-process') expect([liveWhileRunning, liveResources.count]).toEqual([1, 0]);
    // The stream's and the status calls' leases are all released, so the pooled channel is closed.
    expect(openChannelCount()).toBe(0);
  });

  it('a pullable source behind remote() stays within the credit window', async () => {
    // A fresh executor: its peak in-flight counter then belongs to this stream alone.
    const fresh = await start();
    try {
      const window = 4;
      let produced = 0;
      let received = 0;
      let peakGap = 0;
      async function* source(): AsyncGenerator<number> {
        for (let i = 0; i < 120; i++) {
          produced++;
          peakGap = Math.max(peakGap, produced - received);
          yield i;
        }
      }
      const out = await collect(fromAsyncIterable(source()).pipe(remote<number, number>({ address: fresh.address, window }, slowEcho({ delayMs: 1 })), map((x) => (received++, x))));
      expect(out).toEqual([...Array(120).keys()]);
      const status = await fresh.status();
      expect(status.peakStreamInFlight).toBeGreaterThan(0);
      expect(status.peakStreamInFlight).toBeLessThanOrEqual(window);
      // window items uncredited on the executor + 1 inside slowEcho + 1 being read by the source.
      expect(peakGap).toBeLessThanOrEqual(window + 2);
    } finally {
      await fresh.close();
    }
  });
});
