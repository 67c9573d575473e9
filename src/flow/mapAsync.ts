/**
 * `mapAsync(project, options)`: an async step with backpressure, the bounded replacement for
 * `concatMap(async ...)` / `mergeMap(async ...)` (which buffer without bound).
 *
 * @module
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { InvalidParamsError, toNodeError } from '../errors.js';
import { currentDemand, DemandGate, withDemand } from './demand.js';
import { FlowQueue, type OverflowPolicy } from './flowQueue.js';

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
 * of `size` and then meets `overflow`.
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
      const downstream = currentDemand();
      // Towards a boundary downstream we behave like a pullable source: we start no work while it is full.
      downstream?.attachPullable();
      const queue = new FlowQueue<I>({ size, overflow, node: NAME, label: options.label });
      const abort = new AbortController();
      // Results in input order; a slot is filled when its call settles and emitted once all earlier slots are.
      const slots: Array<{ done: boolean; value?: O }> = [];
      let sourceDone = false;
      const gate = new DemandGate(() => queue.length === 0 && slots.length < concurrency && (downstream?.ready ?? true));

      const fail = (e: unknown): void => subscriber.error(toNodeError(e, NAME));
      const emitReady = (): void => {
        while (slots.length > 0 && slots[0]!.done && !subscriber.closed) subscriber.next(slots.shift()!.value as O);
      };
      let waitingDownstream = false;
      const pump = (): void => {
        while (queue.length > 0 && slots.length < concurrency && !subscriber.closed) start(queue.shift() as I);
        if (sourceDone && queue.length === 0 && slots.length === 0 && !subscriber.closed) subscriber.complete();
        if (downstream !== undefined && !downstream.ready && !waitingDownstream && !subscriber.closed) {
          // Our gate also waits on the boundary downstream; wake the source when that one frees room.
          waitingDownstream = true;
          void downstream.whenReady().then(() => {
            waitingDownstream = false;
            pump();
          });
        }
        gate.notify();
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

      const subscription = withDemand(gate, () =>
        source.subscribe({
          next(item) {
            try {
              queue.offer(item, gate.hasPullableSource);
            } catch (e) {
              subscriber.error(e);
              return;
            }
            pump();
          },
          error: (e: unknown) => subscriber.error(e),
          complete() {
            sourceDone = true;
            pump();
          },
        }),
      );
      return () => {
        subscription.unsubscribe();
        downstream?.detachPullable();
        abort.abort();
        gate.close();
        queue.close();
      };
    });
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidParamsError(NAME, name, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}
