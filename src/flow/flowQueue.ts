/**
 * The bounded queue behind every async boundary (`bounded`, `mapAsync`, `remote()`), with a named overflow policy
 * and counters that {@link flowStats} reports.
 *
 * @module
 */
import { OverflowError } from '../errors.js';

/**
 * What a full boundary does with one more item:
 * - `'block'`: pause the pullable source upstream (lossless). Items that still arrive while full — a source that
 *   emits several items per read — are kept. If the upstream cannot pause (a push source) a full queue is an
 *   {@link OverflowError}: choose a dropping policy for live sources.
 * - `'drop-oldest'`: evict the oldest queued item (live media: keep latency bounded), counted in `dropped`.
 * - `'drop-newest'`: discard the arriving item, counted in `dropped`.
 * - `'error'`: fail the stream with an {@link OverflowError} (code `OVERFLOW`).
 */
export type OverflowPolicy = 'block' | 'drop-oldest' | 'drop-newest' | 'error';

/** Cumulative counters of the boundaries sharing one label (live and finished), see {@link flowStats}. */
export interface FlowStats {
  /** The label given to the boundary (default: its node type). */
  readonly label: string;
  /** Items offered to the queue. */
  received: number;
  /** Items taken out of the queue towards the consumer. */
  delivered: number;
  /** Items dropped by `'drop-oldest'` / `'drop-newest'`. */
  dropped: number;
  /** Items accepted above `size` because a pausing source had already produced them (`'block'` only). */
  overshoot: number;
  /** Items queued right now, summed over live boundaries. */
  queued: number;
  /** Largest queue length seen by any one boundary. */
  peakQueued: number;
  /** Live boundaries (subscriptions) with this label. */
  active: number;
}

const registry = new Map<string, FlowStats>();

function statsFor(label: string): FlowStats {
  let stats = registry.get(label);
  if (stats === undefined) {
    stats = { label, received: 0, delivered: 0, dropped: 0, overshoot: 0, queued: 0, peakQueued: 0, active: 0 };
    registry.set(label, stats);
  }
  return stats;
}

/** Snapshot of the counters of every boundary label seen in this process, sorted by label. */
export function flowStats(): FlowStats[];
/** Snapshot of one label's counters (all zero if never seen). */
export function flowStats(label: string): FlowStats;
export function flowStats(label?: string): FlowStats | FlowStats[] {
  if (label !== undefined) return { ...statsFor(label) };
  return [...registry.values()].map((s) => ({ ...s })).sort((a, b) => a.label.localeCompare(b.label));
}

/** Options of a {@link FlowQueue}. */
export interface FlowQueueOptions {
  /** Capacity in items; positive integer. */
  readonly size: number;
  readonly overflow: OverflowPolicy;
  /** Node type for errors, e.g. `'core.bounded'`. */
  readonly node: string;
  /** Stats label. Default: `node`. */
  readonly label?: string | undefined;
}

/** A FIFO ring buffer of at most `size` items (plus block-mode overshoot) applying an {@link OverflowPolicy}. */
export class FlowQueue<T> {
  private items: (T | undefined)[];
  private head = 0;
  private count = 0;
  private readonly stats: FlowStats;
  private closed = false;

  constructor(private readonly options: FlowQueueOptions) {
    this.items = new Array<T | undefined>(options.size);
    this.stats = statsFor(options.label ?? options.node);
    this.stats.active++;
  }

  get length(): number {
    return this.count;
  }

  get isFull(): boolean {
    return this.count >= this.options.size;
  }

  /**
   * Adds an item, applying the overflow policy when full.
   * @param upstreamCanPause - True when a pullable source upstream honours demand (block mode may then overshoot).
   * @throws {@link OverflowError} for `'error'`, and for `'block'` when the upstream cannot pause.
   */
  offer(item: T, upstreamCanPause: boolean): void {
    if (this.closed) return;
    this.stats.received++;
    if (this.count >= this.options.size) {
      switch (this.options.overflow) {
        case 'drop-newest':
          this.stats.dropped++;
          return;
        case 'drop-oldest':
          this.shiftInternal();
          this.stats.dropped++;
          break;
        case 'error':
          throw new OverflowError('OVERFLOW', `${this.options.node}: queue full (size ${this.options.size}) with overflow 'error'`, { node: this.options.node });
        case 'block':
          if (!upstreamCanPause) {
            throw new OverflowError(
              'OVERFLOW',
              `${this.options.node}: queue full (size ${this.options.size}) and the upstream is a push source that cannot pause; ` +
                `use overflow 'drop-oldest' or 'drop-newest' for live sources, or a pullable source (fromWavFile, fromAsyncIterable)`,
              { node: this.options.node },
            );
          }
          this.stats.overshoot++;
          break;
      }
    }
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) % this.items.length] = item;
    this.count++;
    this.stats.queued++;
    if (this.count > this.stats.peakQueued) this.stats.peakQueued = this.count;
  }

  /** Takes the oldest item towards the consumer, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    this.stats.delivered++;
    return this.shiftInternal();
  }

  /** Drops everything still queued (teardown) and detaches from the stats. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stats.queued -= this.count;
    this.stats.active--;
    this.items = [];
    this.head = 0;
    this.count = 0;
  }

  private shiftInternal(): T {
    const item = this.items[this.head] as T;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.count--;
    this.stats.queued--;
    return item;
  }

  // Only block-mode overshoot grows the ring; it is bounded by what one source read can expand into.
  private grow(): void {
    const bigger = new Array<T | undefined>(Math.max(1, this.items.length * 2));
    for (let i = 0; i < this.count; i++) bigger[i] = this.items[(this.head + i) % this.items.length];
    this.items = bigger;
    this.head = 0;
  }
}
