/**
 * `mapAsync(project, options)`: an async step with backpressure, the bounded replacement for
 * `concatMap(async ...)` / `mergeMap(async ...)` (which buffer without bound).
 *
 * @module
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { InvalidParamsError, toNodeError } from '../errors.js';
import { Boundary } from './boundary.js';
import type { OverflowPolicy } from './flowQueue.js';

/** Options of {@link mapAsync}. */
export interface MapAsyncOptions {
  /** Items processed at once; outputs keep input order. Default: 1. */
  readonly concurrency?: number;
  /** Items that may wait while all workers are busy (only a push source fills it). Default: 16. */
  readonly size?: number;
  /** What a full waiting queue does with one more item. Default: `'block'`. */
  readonly overflow?: OverflowPolicy;
  /** Name under which `flowStats()` reports the waiting queue. Default: `'mapAsync'`. */
  readonly label?: string;
}

const NAME = 'mapAsync';

/**
 * Applies an async function to each item with at most `concurrency` calls running, emitting results in input order.
 * It is a flow-control boundary: a pullable source upstream reads only when a worker is free, so in flight are at
 * most `concurrency` items (plus what a `bounded()` in front of it holds). A push source that outruns it fills a queue
 * of `size` and then meets `overflow` (`'block'` keeps it lossless up to `PUSH_SOURCE_LIMITS`).
 *
 * On complete: finishes the running and queued calls, emits their results, then completes. On error (from upstream or
 * from `project`, wrapped as `NODE_FAILED` naming `mapAsync`): errors at once. On unsubscribe: aborts the `signal`
 * passed to `project` and ignores late results.
 *
 * @param project - `(item, signal) => result | Promise<result>`; honour `signal` to stop work early.
 * @example
 * ```ts
 * fromWavFile('a.wav').pipe(mapAsync((frame) => model.run(frame), { concurrency: 2 }));
 * ```
 */
export function mapAsync<I, O>(project: (item: I, signal: AbortSignal) => O | PromiseLike<O>, options: MapAsyncOptions = {}): OperatorFunction<I, O> {
  const concurrency = positiveInt(options.concurrency ?? 1, 'concurrency');
  const size = positiveInt(options.size ?? 16, 'size');
  const overflow = options.overflow ?? 'block';
  return (source) =>
    new Observable<O>((subscriber) => {
      // Results in input order; a slot is filled when its call settles and emitted once all earlier slots are.
      const slots: Array<{ done: boolean; value?: O }> = [];
      const boundary = new Boundary<I>(
        { size, overflow, node: NAME, label: options.label },
        // A source reads only when a worker is free and the boundary downstream (if any) has room.
        (b) => b.queue.length === 0 && slots.length < concurrency && (b.downstream?.ready ?? true),
      );
      const abort = new AbortController();
      const fail = (e: unknown): void => subscriber.error(toNodeError(e, NAME));
      const emitReady = (): void => {
        while (slots.length > 0 && slots[0]!.done && !subscriber.closed) subscriber.next(slots.shift()!.value as O);
      };
      const pump = (): void => {
        while (boundary.queue.length > 0 && slots.length < concurrency && !subscriber.closed) start(boundary.queue.shift() as I);
        if (boundary.sourceDone && boundary.queue.length === 0 && slots.length === 0 && !subscriber.closed) subscriber.complete();
        boundary.downstreamReady(pump);
        boundary.gate.notify();
      };
      const start = (item: I): void => {
        const slot: { done: boolean; value?: O } = { done: false };
        slots.push(slot);
        let result: O | PromiseLike<O>;
        try {
          result = project(item, abort.signal);
        } catch (e) {
          fail(e);
          return;
        }
        Promise.resolve(result).then(
          (value) => {
            if (subscriber.closed) return;
            slot.done = true;
            slot.value = value;
            emitReady();
            pump();
          },
          (e: unknown) => {
            if (!subscriber.closed) fail(e);
          },
        );
      };
      boundary.connect(source, subscriber, pump);
      return () => {
        abort.abort();
        boundary.close();
      };
    });
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidParamsError(NAME, name, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}
