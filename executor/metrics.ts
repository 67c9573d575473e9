/**
 * Prometheus metrics of an executor (prom-client), served as text on `GET /metrics` of a small HTTP server
 * (`metricsPort`). Every number is read from {@link ExecutorStats} at scrape time, so the hot path only bumps plain
 * counters; each executor has its own registry (several executors in one process do not collide).
 *
 * Metric names (all prefixed `remotemedia_`):
 * - `streams_active`, `sessions_active` (gauges); `streams_total`, `streams_rejected_total`,
 *   `streams_failed_total{code}` (counters)
 * - `node_items_in_total{node_type}`, `node_items_out_total{node_type}`, `node_errors_total{node_type}`
 * - `node_processing_seconds{node_type}`: histogram of the synchronous time one input item spends in one node
 * - `credit_stalls_total` (a stream used its last credit), `demand_waits_total` (input waited for a chain boundary)
 * - `overflow_drops_total{boundary}` (items dropped by 'drop-oldest' / 'drop-newest' boundaries)
 * - `sandbox_timeouts_total`, `items_in_flight`, `draining`
 * - `write_stalls_total`, `calls_rejected_total`, `session_calls`, `isolates_live` (hostile-client limits)
 * - the prom-client default process metrics (`process_resident_memory_bytes`, event-loop lag, GC, ...)
 *
 * @module
 */
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import { liveIsolates } from '../src/sandbox/isolatePool.js';
import { RemoteMediaError } from '../src/errors.js';
import { LATENCY_BUCKETS_SECONDS, type ExecutorStats } from './stats.js';

/** A running `/metrics` endpoint. */
export interface MetricsServer {
  /** The bound port. */
  readonly port: number;
  /** `http://host:port/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Creates the registry of one executor, reading `stats` on every scrape. */
export function createMetricsRegistry(stats: ExecutorStats): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  };
  // Counters that mirror a monotonic number from stats: reset, then set to the current total.
  const counter = (name: string, help: string, labelName: string | undefined, read: () => Iterable<[string, number]>): void => {
    new Counter({
      name,
      help,
      labelNames: labelName === undefined ? [] : [labelName],
      registers: [registry],
      collect() {
        this.reset();
        for (const [label, value] of read()) {
          if (labelName === undefined) this.inc(value);
          else this.inc({ [labelName]: label }, value);
        }
      },
    });
  };
  const one = (read: () => number) => (): [string, number][] => [['', read()]];
  const perNode = (read: (c: ReturnType<ExecutorStats['node']>) => number) => (): [string, number][] =>
    stats.nodeEntries().map(([type, c]) => [type, read(c)]);

  gauge('remotemedia_streams_active', 'Stream calls open right now.', () => stats.activeStreams);
  gauge('remotemedia_sessions_active', 'Object-proxy sessions open right now.', () => stats.activeSessions);
  gauge('remotemedia_items_in_flight', 'Items held for clients, all streams: received and not yet credited back, plus outputs the transport has not taken.', () => stats.inFlight);
  gauge('remotemedia_draining', '1 while the executor drains before stopping.', () => (stats.draining ? 1 : 0));
  counter('remotemedia_streams_total', 'Stream calls accepted since start.', undefined, one(() => stats.totalStreams));
  counter('remotemedia_streams_rejected_total', 'Stream calls refused by maxStreams.', undefined, one(() => stats.rejectedStreams));
  counter('remotemedia_streams_failed_total', 'Streams that ended with an error, by error code.', 'code', () => stats.failuresByCode.entries());
  counter('remotemedia_node_items_in_total', 'Items pushed into a node, by node type.', 'node_type', perNode((c) => c.itemsIn));
  counter('remotemedia_node_items_out_total', 'Items a node emitted, by node type.', 'node_type', perNode((c) => c.itemsOut));
  counter('remotemedia_node_errors_total', 'Streams that failed in a node, by node type.', 'node_type', perNode((c) => c.errors));
  counter('remotemedia_credit_stalls_total', 'Times a stream used its last credit (the client waited for the executor).', undefined, one(() => stats.creditStalls));
  counter('remotemedia_demand_waits_total', "Times a stream's input waited for the chain's first boundary to be ready.", undefined, one(() => stats.demandWaits));
  counter('remotemedia_overflow_drops_total', "Items dropped by 'drop-oldest' / 'drop-newest' boundaries, by boundary label.", 'boundary', () =>
    stats.overflowDrops().map((d): [string, number] => [d.label, d.dropped]),
  );
  counter('remotemedia_sandbox_timeouts_total', 'Sandboxed calls stopped by their time limit.', undefined, one(() => stats.sandboxTimeouts));
  counter('remotemedia_write_stalls_total', 'Times a stream stopped granting credit because its client was not reading.', undefined, one(() => stats.writeStalls));
  counter('remotemedia_calls_rejected_total', 'Calls refused by a per-client or per-executor limit, or closed for sending no first message.', undefined, one(() => stats.rejectedCalls));
  gauge('remotemedia_session_calls', 'Session calls open right now (attached or awaiting their first message).', () => stats.sessionCalls);
  gauge('remotemedia_isolates_live', 'isolated-vm isolates alive in this process (in use or pooled).', () => liveIsolates());
  registry.registerMetric(latencyHistogram(stats));
  return registry;
}

/**
 * `remotemedia_node_processing_seconds` as a prom-client-compatible metric object built from the bucket arrays in
 * stats: prom-client's own Histogram hashes its labels on every observe (~1 µs), too much per item per node.
 */
function latencyHistogram(stats: ExecutorStats): Metric {
  const name = 'remotemedia_node_processing_seconds';
  const help = 'Synchronous processing time of one input item in one node (downstream time excluded), by node type.';
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get() {
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      for (const [type, c] of stats.nodeEntries()) {
        let cumulative = 0;
        for (const [i, bound] of LATENCY_BUCKETS_SECONDS.entries()) {
          cumulative += c.latencyBuckets[i]!;
          values.push({ labels: { node_type: type, le: bound }, value: cumulative, metricName: `${name}_bucket` });
        }
        cumulative += c.latencyBuckets[LATENCY_BUCKETS_SECONDS.length]!;
        values.push({ labels: { node_type: type, le: '+Inf' }, value: cumulative, metricName: `${name}_bucket` });
        values.push({ labels: { node_type: type }, value: c.latencySumSeconds, metricName: `${name}_sum` });
        values.push({ labels: { node_type: type }, value: cumulative, metricName: `${name}_count` });
      }
      return Promise.resolve({ name, help, type: 'histogram', aggregator: 'sum', values });
    },
  };
  return metric as unknown as Metric;
}

/**
 * Serves `registry` on `GET /metrics` (Prometheus text format) at `host:port`; any other path is 404. Port 0 picks
 * a free port.
 */
export async function startMetricsServer(registry: Registry, host: string, port: number): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (e: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(e)}\n`),
    );
  });
  server.keepAliveTimeout = 5_000;
  const bound = await new Promise<number>((resolve, reject) => {
    server.once('error', (e) => reject(new RemoteMediaError('UNAVAILABLE', `executor: cannot bind metrics port ${host}:${port}: ${e.message}`, { cause: e })));
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    port: bound,
    url: `http://${shown}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
