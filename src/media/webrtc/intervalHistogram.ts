/**
 * Cadence statistics of a periodic event, for `/connections` and the benchmark: a fixed histogram of the intervals
 * between calls (0.1 ms buckets up to 200 ms), so memory stays constant however long a peer lives. Pure: the caller
 * passes the time.
 * @module
 */

const BUCKET_MS = 0.1;
const BUCKETS = 2000;

/** Percentiles of intervals and of their jitter around a nominal period. */
export interface CadenceStats {
  /** Intervals counted. */
  readonly count: number;
  readonly intervalP50Ms: number;
  readonly intervalP99Ms: number;
  /** p99 of |interval − period|, ms. */
  readonly jitterP99Ms: number;
}

/** Histogram of the intervals between successive {@link IntervalHistogram.mark} calls. */
export class IntervalHistogram {
  private readonly intervals = new Uint32Array(BUCKETS + 1);
  private readonly jitter = new Uint32Array(BUCKETS + 1);
  private last: number | undefined;
  private count = 0;
  private skipped = 0;

  /**
   * @param periodMs - Nominal period, ms (20 for the output track).
   * @param warmupIntervals - Intervals ignored at the start (connection set-up, first-use compilation). Default: 0.
   */
  constructor(
    private readonly periodMs: number,
    private readonly warmupIntervals = 0,
  ) {}

  /** Records an event at `nowMs` (a monotonic clock such as `performance.now()`). */
  mark(nowMs: number): void {
    if (this.last !== undefined && this.skipped < this.warmupIntervals) this.skipped++;
    else if (this.last !== undefined) {
      const interval = nowMs - this.last;
      this.intervals[bucket(interval)]!++;
      this.jitter[bucket(Math.abs(interval - this.periodMs))]!++;
      this.count++;
    }
    this.last = nowMs;
  }

  /** Percentiles so far (upper bucket edges, so never optimistic by more than 0.1 ms). */
  stats(): CadenceStats {
    return {
      count: this.count,
      intervalP50Ms: quantile(this.intervals, this.count, 0.5),
      intervalP99Ms: quantile(this.intervals, this.count, 0.99),
      jitterP99Ms: quantile(this.jitter, this.count, 0.99),
    };
  }
}

function bucket(ms: number): number {
  return Math.min(BUCKETS, Math.max(0, Math.floor(ms / BUCKET_MS)));
}

function quantile(histogram: Uint32Array, count: number, q: number): number {
  if (count === 0) return 0;
  const rank = Math.ceil(q * count);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i]!;
    if (seen >= rank) return Math.min(BUCKETS * BUCKET_MS, Math.round((i + 1) * BUCKET_MS * 10) / 10);
  }
  return BUCKETS * BUCKET_MS;
}
