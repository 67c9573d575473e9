/**
 * Counts per key (a client's address, an isolate's owner) for per-client limits. A key whose count drops to zero is
 * forgotten, so the map holds only keys with something live and cannot grow with every address ever seen.
 *
 * @internal
 */
export class KeyedCounts<K> {
  private readonly counts = new Map<K, number>();

  /** The count of `key` (0 when absent). */
  get(key: K): number {
    return this.counts.get(key) ?? 0;
  }

  /** Adds one to `key`'s count. */
  increment(key: K): void {
    this.counts.set(key, this.get(key) + 1);
  }

  /** Takes one from `key`'s count, forgetting the key at zero. */
  decrement(key: K): void {
    const n = this.get(key) - 1;
    if (n > 0) this.counts.set(key, n);
    else this.counts.delete(key);
  }

  /** Keys with a count above zero. */
  get size(): number {
    return this.counts.size;
  }
}
