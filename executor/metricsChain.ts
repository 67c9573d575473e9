/**
 * Builds an executor chain with per-node counters: items in, items out, and the synchronous processing time of each
 * input item in each node, excluding the time spent downstream of it (nested calls are subtracted, so a 3-node
 * synchronous chain reports three separate costs and the sink's encode/write cost is charged to no node).
 *
 * Work a node does later (an async boundary such as `mapAsync` resolving) is not in its histogram; the executor
 * reports it as the downstream node's time or not at all. That is the honest cheap measure: one `performance.now()`
 * pair per node per item and no allocation.
 *
 * @internal
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { observeLatency, type ExecutorStats, type MutableNodeCounters } from './stats.js';

/** Time spent in nested (downstream) calls of the frames currently on the synchronous call stack, ms. */
const nested: number[] = [];

/**
 * Passes every value through while timing the synchronous call into the next stage. With `counters`, the
 * exclusive time is charged to that node and the value counted as its input.
 */
function timed<T>(counters: MutableNodeCounters | undefined): OperatorFunction<T, T> {
  return (source) =>
    new Observable<T>((subscriber) =>
      source.subscribe({
        next(value) {
          if (counters !== undefined) counters.itemsIn++;
          nested.push(0);
          const start = performance.now();
          try {
            subscriber.next(value);
          } finally {
            const total = performance.now() - start;
            const inner = nested.pop()!;
            if (nested.length > 0) nested[nested.length - 1]! += total;
            if (counters !== undefined) observeLatency(counters, (total - inner) / 1000);
          }
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => subscriber.complete(),
      }),
    );
}

/** Counts outputs of a node. */
function counted<T>(counters: MutableNodeCounters): OperatorFunction<T, T> {
  return (source) =>
    new Observable<T>((subscriber) =>
      source.subscribe({
        next(value) {
          counters.itemsOut++;
          subscriber.next(value);
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => subscriber.complete(),
      }),
    );
}

/**
 * `input` piped through `operators` (node `types[i]` each), instrumented as described above.
 */
export function instrumentedChain(
  input: Observable<unknown>,
  operators: readonly OperatorFunction<unknown, unknown>[],
  types: readonly string[],
  stats: ExecutorStats,
): Observable<unknown> {
  let chain = input;
  for (const [i, operator] of operators.entries()) {
    const counters = stats.node(types[i]!);
    chain = counted(counters)(operator(timed(counters)(chain)));
  }
  // The last frame: its time (encoding and writing the output) is nested, subtracted from the last node.
  return timed(undefined)(chain);
}
