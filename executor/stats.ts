/**
 * Executor counters behind `GetStatus` and `/metrics`: streams, items in flight (received and not yet credited
 * back), per-node counters and processing-time histograms, credit stalls and failures. Plain numbers updated in
 * place; a snapshot is built only when asked (GetStatus, a Prometheus scrape).
 *
 * @module
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { flowStats } from '../src/flow/flowQueue.js';
import { liveIsolates } from '../src/sandbox/isolatePool.js';
import type { GetStatusResponse, NodeCounters, NodeTiming } from '../src/remote/gen/remotemedia.js';

/**
 * Upper bounds of the per-node processing-time histogram, seconds (10 µs … 1 s). Chosen for media nodes: a 20 ms
 * frame through a cheap node takes ~1–50 µs, an inference call milliseconds.
 */
export const LATENCY_BUCKETS_SECONDS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1] as const;

const LARGEST_BOUND = 1;

/** Counters of one node type (mutable; the session updates them in place). */
export interface MutableNodeCounters {
  streams: number;
  active: number;
  itemsIn: number;
  itemsOut: number;
  errors: number;
  /** Count per bucket of {@link LATENCY_BUCKETS_SECONDS}, plus one overflow slot (+Inf). */
  readonly latencyBuckets: Float64Array;
  latencySumSeconds: number;
}

/** Counters of one executor. */
export class ExecutorStats {
  private readonly startedAt = performance.now();
  activeStreams = 0;
  totalStreams = 0;
  rejectedStreams = 0;
  /** Streams that ended with an error, by error code. */
  readonly failuresByCode = new Map<string, number>();
  /** Times a stream used its last credit: the client had to wait for the executor (credit-window stall). */
  creditStalls = 0;
  /** Times a stream's queued input waited for the chain's first boundary to be ready. */
  demandWaits = 0;
  /** Sandboxed calls stopped by their time limit (incremented by the sandbox through {@link recordSandboxTimeout}). */
  sandboxTimeouts = 0;
  /**
   * Items the executor holds, over all streams: received and not yet credited back, plus outputs written and not yet
   * taken by the transport (a client that does not read shows here, its credit withheld).
   */
  inFlight = 0;
  /** Largest count of received, not yet credited items of one stream (≤ its window). */
  peakStreamInFlight = 0;
  draining = false;
  /** Object-proxy sessions open right now (kept by the session service when it exists). */
  activeSessions = 0;
  /** Times a stream stopped granting credit because its client was not reading (gRPC write buffer full). */
  writeStalls = 0;
  /** Session calls open right now (attached or awaiting their first message). */
  sessionCalls = 0;
  /** Calls refused by a per-client or per-executor limit, or closed for never sending their first message. */
  rejectedCalls = 0;
  /** Event-loop delay of this process (resolution 10 ms is perf_hooks' default; 5 ms here). */
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 5 });
  private readonly nodes = new Map<string, MutableNodeCounters>();

  constructor(private readonly version: string) {
    this.loopDelay.enable();
  }

  /** Stops the event-loop delay monitor (executor close). */
  stop(): void {
    this.loopDelay.disable();
  }

  /** Counters of a node type, created on first use. */
  node(type: string): MutableNodeCounters {
    let counters = this.nodes.get(type);
    if (counters === undefined) {
      counters = { streams: 0, active: 0, itemsIn: 0, itemsOut: 0, errors: 0, latencyBuckets: new Float64Array(LATENCY_BUCKETS_SECONDS.length + 1), latencySumSeconds: 0 };
      this.nodes.set(type, counters);
    }
    return counters;
  }

  /** Node types seen so far, sorted, with their counters. */
  nodeEntries(): [string, Readonly<MutableNodeCounters>][] {
    return [...this.nodes.entries()].sort(([a], [b]) => a.localeCompare(b));
  }

  /** Records one stream's in-flight count after it changed by `delta`. */
  trackInFlight(streamInFlight: number, delta: number): void {
    this.inFlight += delta;
    if (streamInFlight > this.peakStreamInFlight) this.peakStreamInFlight = streamInFlight;
  }

  /** Records a stream that ended with error `code` (class `name`); a sandbox time-out counts as one too. */
  recordFailure(code: string, name?: string): void {
    this.failuresByCode.set(code, (this.failuresByCode.get(code) ?? 0) + 1);
    if (name === 'SandboxLimitError' && code === 'DEADLINE_EXCEEDED') this.sandboxTimeouts++;
  }

  /** For the sandbox: one call was stopped by its time limit. */
  recordSandboxTimeout(): void {
    this.sandboxTimeouts++;
  }

  /** Items dropped by 'drop-oldest' / 'drop-newest' boundaries in this process, by boundary label. */
  overflowDrops(): { label: string; dropped: number }[] {
    return flowStats()
      .filter((s) => s.dropped > 0)
      .map((s) => ({ label: s.label, dropped: s.dropped }));
  }

  snapshot(): GetStatusResponse {
    const entries = this.nodeEntries();
    const nodes: NodeCounters[] = entries.map(([type, c]) => ({ type, streams: c.streams, active: c.active, itemsOut: c.itemsOut, errors: c.errors }));
    const micros = (seconds: number): number => Math.round(seconds * 1e7) / 10;
    const nodeTimings: NodeTiming[] = entries.map(([type, c]) => ({
      type,
      itemsIn: c.itemsIn,
      p50Us: micros(histogramQuantile(c.latencyBuckets, 0.5)),
      p99Us: micros(histogramQuantile(c.latencyBuckets, 0.99)),
    }));
    let failedStreams = 0;
    for (const n of this.failuresByCode.values()) failedStreams += n;
    return {
      uptimeMs: Math.round(performance.now() - this.startedAt),
      activeStreams: this.activeStreams,
      totalStreams: this.totalStreams,
      rejectedStreams: this.rejectedStreams,
      inFlight: this.inFlight,
      peakStreamInFlight: this.peakStreamInFlight,
      nodes,
      version: this.version,
      activeSessions: this.activeSessions,
      draining: this.draining,
      creditStalls: this.creditStalls,
      overflowDrops: this.overflowDrops().reduce((sum, d) => sum + d.dropped, 0),
      sandboxTimeouts: this.sandboxTimeouts,
      failedStreams,
      rssBytes: process.memoryUsage.rss(),
      nodeTimings,
      writeStalls: this.writeStalls,
      liveIsolates: liveIsolates(),
      sessionCalls: this.sessionCalls,
      eventLoopDelayP99Us: this.loopDelay.count === 0 ? 0 : this.loopDelay.percentile(99) / 1000,
      eventLoopDelayMaxUs: this.loopDelay.count === 0 ? 0 : this.loopDelay.max / 1000,
      rejectedCalls: this.rejectedCalls,
    };
  }
}

/**
 * Quantile `q` (0–1) of a bucketed histogram, interpolated linearly inside the bucket (as Prometheus'
 * `histogram_quantile` does); 0 when empty. Values in the +Inf slot report the largest finite bound.
 */
export function histogramQuantile(buckets: Float64Array, q: number): number {
  let total = 0;
  for (const n of buckets) total += n;
  if (total === 0) return 0;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i]!;
    if (seen + n >= rank && n > 0) {
      if (i >= LATENCY_BUCKETS_SECONDS.length) return LARGEST_BOUND;
      const lower = i === 0 ? 0 : LATENCY_BUCKETS_SECONDS[i - 1]!;
      const upper = LATENCY_BUCKETS_SECONDS[i]!;
      return lower + (upper - lower) * ((rank - seen) / n);
    }
    seen += n;
  }
  return LARGEST_BOUND;
}

/** Adds one observation (seconds) to a bucket array of {@link LATENCY_BUCKETS_SECONDS}. */
export function observeLatency(counters: MutableNodeCounters, seconds: number): void {
  let i = 0;
  while (i < LATENCY_BUCKETS_SECONDS.length && seconds > LATENCY_BUCKETS_SECONDS[i]!) i++;
  counters.latencyBuckets[i] = counters.latencyBuckets[i]! + 1;
  counters.latencySumSeconds += seconds;
}
