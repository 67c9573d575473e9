/**
 * Executor observability: the /metrics endpoint (scraped over HTTP, parsed) and GetStatus mirror the same numbers
 * after real streams; logs are JSON lines carrying a stream id.
 */
import { lastValueFrom, from, toArray } from 'rxjs';
import { fromAsyncIterable } from '../../src/flow/pullable.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExecutor, type Executor } from '../../executor/index.js';
import { createMetricsRegistry } from '../../executor/metrics.js';
import { ExecutorStats, histogramQuantile, LATENCY_BUCKETS_SECONDS, observeLatency } from '../../executor/stats.js';
import { FlowQueue } from '../../src/flow/flowQueue.js';
import { calculator } from '../../src/operators/core/calculator.js';
import { codeNode } from '../../src/operators/core/codeNode.js';
import { passThrough } from '../../src/operators/core/passThrough.js';
import { executorStatus, remote } from '../../src/remote/index.js';
import { TEST_NODES } from '../remote/helpers/executors.js';
import { failOn, runningSum } from '../remote/helpers/testNodes.js';

/** Parses Prometheus text into `name{labels}` → value. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

async function scrape(url: string): Promise<{ status: number; type: string; metrics: Map<string, number>; text: string }> {
  const response = await fetch(url);
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', metrics: parseMetrics(text), text };
}

describe('executor metrics', () => {
  let executor: Executor;
  beforeAll(async () => {
    executor = await startExecutor({ port: 0, metricsPort: 0, logLevel: 'silent', modules: [TEST_NODES] });
  });
  afterAll(() => executor.close());

  it('serves Prometheus text on GET /metrics and 404 elsewhere', async () => {
    expect(executor.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const { status, type, text } = await scrape(executor.metricsUrl!);
    expect(status).toBe(200);
    expect(type).toContain('text/plain');
    expect(text).toContain('# TYPE remotemedia_streams_active gauge');
    expect(text).toContain('# TYPE remotemedia_node_processing_seconds histogram');
    expect(text).toContain('process_resident_memory_bytes');
    expect((await fetch(executor.metricsUrl!.replace('/metrics', '/other'))).status).toBe(404);
  });

  it('counts streams, items in/out per node type, latency histograms and failures; GetStatus mirrors them', async () => {
    const address = executor.address;
    const config = { address, window: 4 };
    const before = parseMetrics((await scrape(executor.metricsUrl!)).text);
    const stream = fromAsyncIterable([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).pipe(remote<number, number>(config, calculator({ operation: 'multiply', operand: 2 }), passThrough(), runningSum({})));
    expect(await lastValueFrom(stream.pipe(toArray()))).toEqual([2, 6, 12, 20, 30, 42, 56, 72, 90, 110]);
    await expect(lastValueFrom(from([1, 2, 3]).pipe(remote(config, failOn({ failOn: 2 }))))).rejects.toMatchObject({ code: 'NODE_FAILED' });

    const { metrics } = await scrape(executor.metricsUrl!);
    const delta = (key: string): number => (metrics.get(key) ?? 0) - (before.get(key) ?? 0);
    expect(delta('remotemedia_streams_total')).toBe(2);
    expect(metrics.get('remotemedia_streams_active')).toBe(0);
    expect(delta('remotemedia_node_items_in_total{node_type="core.calculator"}')).toBe(10);
    expect(delta('remotemedia_node_items_out_total{node_type="core.calculator"}')).toBe(10);
    expect(delta('remotemedia_node_items_in_total{node_type="test.runningSum"}')).toBe(10);
    expect(delta('remotemedia_node_items_in_total{node_type="test.fail"}')).toBe(2);
    expect(delta('remotemedia_node_items_out_total{node_type="test.fail"}')).toBe(1);
    expect(delta('remotemedia_node_errors_total{node_type="test.fail"}')).toBe(1);
    expect(delta('remotemedia_streams_failed_total{code="NODE_FAILED"}')).toBe(1);
    expect(delta('remotemedia_node_processing_seconds_count{node_type="core.passThrough"}')).toBe(10);
    expect(metrics.get('remotemedia_node_processing_seconds_bucket{node_type="core.passThrough",le="+Inf"}')).toBe(metrics.get('remotemedia_node_processing_seconds_count{node_type="core.passThrough"}'));
    // The fast chain returned credits before the window ran out: no stall. A window of 1 stalls on every item.
    expect(delta('remotemedia_credit_stalls_total')).toBe(0);
    await lastValueFrom(fromAsyncIterable([1, 2, 3, 4, 5]).pipe(remote({ address, window: 1 }, passThrough()), toArray()));
    const afterStalls = (await scrape(executor.metricsUrl!)).metrics;
    expect((afterStalls.get('remotemedia_credit_stalls_total') ?? 0) - (metrics.get('remotemedia_credit_stalls_total') ?? 0)).toBe(5);

    const status = await executorStatus({ address });
    expect(status.activeStreams).toBe(0);
    expect(status.failedStreams).toBe(metrics.get('remotemedia_streams_failed_total{code="NODE_FAILED"}'));
    expect(status.creditStalls).toBe(afterStalls.get('remotemedia_credit_stalls_total'));
    expect(status.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    const calc = status.nodeTimings.find((n) => n.type === 'core.calculator')!;
    expect(calc.itemsIn).toBe(metrics.get('remotemedia_node_items_in_total{node_type="core.calculator"}'));
    expect(calc.p50Us).toBeGreaterThan(0);
    expect(calc.p50Us).toBeLessThan(1_000_000);
    expect(calc.p99Us).toBeGreaterThanOrEqual(calc.p50Us);
  });

  it('counts a sandboxed node stopped by its time limit as a sandbox timeout', async () => {
    const before = executor.status().sandboxTimeouts;
    const spin = codeNode((x: number) => {
      for (;;) void x;
    }, { timeoutMs: 50 });
    await expect(lastValueFrom(fromAsyncIterable([1]).pipe(remote({ address: executor.address }, spin)))).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(executor.status().sandboxTimeouts).toBe(before + 1);
    const { metrics } = await scrape(executor.metricsUrl!);
    expect(metrics.get('remotemedia_sandbox_timeouts_total')).toBe(before + 1);
  });

  it('exports drops per boundary label and sandbox timeouts from the stats', async () => {
    const stats = new ExecutorStats('test');
    const queue = new FlowQueue<number>({ size: 1, overflow: 'drop-newest', node: 'core.bounded', label: 'metrics-spec-drop-newest' });
    for (let i = 0; i < 4; i++) queue.offer(i, false);
    queue.close();
    stats.recordSandboxTimeout();
    const metrics = parseMetrics(await createMetricsRegistry(stats).metrics());
    expect(metrics.get('remotemedia_overflow_drops_total{boundary="metrics-spec-drop-newest"}')).toBe(3);
    expect(metrics.get('remotemedia_sandbox_timeouts_total')).toBe(1);
    expect(stats.snapshot()).toMatchObject({ sandboxTimeouts: 1 });
    expect(stats.snapshot().overflowDrops).toBeGreaterThanOrEqual(3);
  });

  it('histogram quantiles interpolate inside the bucket', () => {
    const stats = new ExecutorStats('test');
    const c = stats.node('x');
    for (let i = 0; i < 100; i++) observeLatency(c, 0.00003); // all in the (25 µs, 50 µs] bucket
    const p50 = histogramQuantile(c.latencyBuckets, 0.5);
    expect(p50).toBeGreaterThan(LATENCY_BUCKETS_SECONDS[1]);
    expect(p50).toBeLessThanOrEqual(LATENCY_BUCKETS_SECONDS[2]);
    observeLatency(c, 5); // beyond the last bound
    expect(histogramQuantile(c.latencyBuckets, 1)).toBe(1);
    expect(histogramQuantile(new Float64Array(LATENCY_BUCKETS_SECONDS.length + 1), 0.5)).toBe(0);
  });

  it('refuses a metrics port that is taken, naming it', async () => {
    const taken = Number(new URL(executor.metricsUrl!).port);
    await expect(startExecutor({ port: 0, metricsPort: taken, logLevel: 'silent' })).rejects.toThrow(`metrics port 127.0.0.1:${taken}`);
  });
});
