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
 *   emits several items per read — are kept. A push source that cannot pause (`from(array)`, `of`, a `Subject`,
 *   marble `cold()`) stays lossless too: the queue keeps what it emits past its size, up to
 *   {@link PUSH_SOURCE_LIMITS} (counted as `overshoot`, one process warning per boundary label naming the better
 *   source); only past those caps is a full queue an {@link OverflowError}.
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
  /** Items accepted above `size` under `'block'`: a pausing source had already produced them, or a push source overran the queue. */
  overshoot: number;
  /** Items queued right now, summed over live boundaries. */
  queued: number;
  /** Largest queue length seen by any one boundary. */
  peakQueued: number;
  /** Live boundaries (subscriptions) with this label. */
  active: number;
}

/**
 * How far a push source (one that cannot pause) may overrun a `'block'` boundary before it fails with `OVERFLOW`:
 * items queued beyond the boundary's size, and bytes queued in all (typed arrays, `AudioFrame` samples and strings
 * counted by size, anything else as 64 bytes). Users expect `from(array)` to work; the caps keep a runaway live source
 * from growing memory without bound. A pullable source never needs them.
 */
export const PUSH_SOURCE_LIMITS = Object.freeze({ maxItems: 65_536, maxBytes: 64 * 1024 * 1024 });

const registry = new Map<string, FlowStats>();
const warnedLabels = new Set<string>();

/** Rough size of an item for {@link PUSH_SOURCE_LIMITS}: exact for binary data, a flat 64 bytes for other values. */
function itemBytes(item: unknown): number {
  if (typeof item === 'string') return item.length * 2;
  if (typeof item !== 'object' || item === null) return 8;
  if (ArrayBuffer.isView(item)) return item.byteLength;
  const samples = (item as { samples?: unknown }).samples;
  return ArrayBuffer.isView(samples) ? samples.byteLength + 64 : 64;
}

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
  /** Caps for a push source overrunning a `'block'` queue. Default: {@link PUSH_SOURCE_LIMITS}. */
  readonly pushLimits?: { readonly maxItems: number; readonly maxBytes: number } | undefined;
}

/** A FIFO ring buffer of at most `size` items (plus block-mode overshoot) applying an {@link OverflowPolicy}. */
export class FlowQueue<T> {
  private items: (T | undefined)[];
  private head = 0;
  private count = 0;
  private readonly stats: FlowStats;
  private closed = false;
  /** Estimated bytes queued (see {@link itemBytes}); checked only against a push source's overrun. */
  private bytes = 0;

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
   * @throws {@link OverflowError} for `'error'`, and for `'block'` when a push source overran {@link PUSH_SOURCE_LIMITS}.
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
          if (!upstreamCanPause) this.admitPushOverrun(item);
          this.stats.overshoot++;
          break;
      }
    }
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) % this.items.length] = item;
    this.count++;
    this.bytes += itemBytes(item);
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
    this.bytes = 0;
  }

  private shiftInternal(): T {
    const item = this.items[this.head] as T;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.count--;
    this.bytes = this.count === 0 ? 0 : this.bytes - itemBytes(item);
    this.stats.queued--;
    return item;
  }

  /** A push source overran a full `'block'` queue: keep the item within the caps (warning once), else OVERFLOW. */
  private admitPushOverrun(item: unknown): void {
    const limits = this.options.pushLimits ?? PUSH_SOURCE_LIMITS;
    const label = this.options.label ?? this.options.node;
    if (this.count - this.options.size >= limits.maxItems || this.bytes + itemBytes(item) > limits.maxBytes) {
      throw new OverflowError(
        'OVERFLOW',
        `${this.options.node}: a push source that cannot pause overran this queue (size ${this.options.size}) by ${this.count - this.options.size} items ` +
          `(~${Math.round(this.bytes / 1024)} KiB queued; caps ${limits.maxItems} items / ${Math.round(limits.maxBytes / 2 ** 20)} MiB). ` +
          `Read files and arrays with a pullable source (fromWavFile, fromAsyncIterable) so nothing waits; for live media choose overflow 'drop-oldest'`,
        { node: this.options.node },
      );
    }
    if (!warnedLabels.has(label)) {
      warnedLabels.add(label);
      process.emitWarning(
        `${label}: a push source that cannot pause overran its queue (size ${this.options.size}); items are kept (up to ${limits.maxItems} more) but wait in memory. ` +
          'A pullable source (fromWavFile, fromAsyncIterable) reads only on demand.',
        { code: 'REMOTEMEDIA_PUSH_OVERRUN' },
      );
    }
  }

  // Only block-mode overshoot grows the ring: bounded by what one source read can expand into, or by PUSH_SOURCE_LIMITS.
  private grow(): void {
    const bigger = new Array<T | undefined>(Math.max(1, this.items.length * 2));
    for (let i = 0; i < this.count; i++) bigger[i] = this.items[(this.head + i) % this.items.length];
    this.items = bigger;
    this.head = 0;
  }
}
