/**
 * Executor counters behind `GetStatus`: streams, items in flight (received and not yet credited back) and per-node
 * counters. Plain numbers updated in place; a snapshot is built only when asked.
 *
 * @module
 */
import type { GetStatusResponse, NodeCounters } from '../src/remote/gen/remotemedia.js';

interface MutableNodeCounters {
  streams: number;
  active: number;
  itemsOut: number;
  errors: number;
}

/** Counters of one executor. */
export class ExecutorStats {
  private readonly startedAt = performance.now();
  activeStreams = 0;
  totalStreams = 0;
  rejectedStreams = 0;
  /** Sum over open streams of items received and not yet credited back. */
  inFlight = 0;
  peakStreamInFlight = 0;
  draining = false;
  private readonly nodes = new Map<string, MutableNodeCounters>();

  constructor(private readonly version: string) {}

  /** Counters of a node type, created on first use. */
  node(type: string): MutableNodeCounters {
    let counters = this.nodes.get(type);
    if (counters === undefined) {
      counters = { streams: 0, active: 0, itemsOut: 0, errors: 0 };
      this.nodes.set(type, counters);
    }
    return counters;
  }

  /** Records one stream's in-flight count after it changed by `delta`. */
  trackInFlight(streamInFlight: number, delta: number): void {
    this.inFlight += delta;
    if (streamInFlight > this.peakStreamInFlight) this.peakStreamInFlight = streamInFlight;
  }

  snapshot(): GetStatusResponse {
    const nodes: NodeCounters[] = [...this.nodes.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, c]) => ({ type, streams: c.streams, active: c.active, itemsOut: c.itemsOut, errors: c.errors }));
    return {
      uptimeMs: Math.round(performance.now() - this.startedAt),
      activeStreams: this.activeStreams,
      totalStreams: this.totalStreams,
      rejectedStreams: this.rejectedStreams,
      inFlight: this.inFlight,
      peakStreamInFlight: this.peakStreamInFlight,
      nodes,
      version: this.version,
      activeSessions: 0,
      draining: this.draining,
    };
  }
}
