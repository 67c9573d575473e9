/**
 * The plumbing of every ML node: `coreOperator` for cores whose work is asynchronous (model inference, child
 * processes, HTTP). Same rules as `coreOperator` (core created on subscribe, throws wrapped with the node type,
 * `flush` on complete, `close` once), plus the flow-control contract of `mapAsync` (docs/ARCHITECTURE.md §3):
 * - one item is processed at a time, in order (engine state such as a VAD's recurrent state needs order);
 * - items that arrive while one is processed wait in a bounded queue of `queueSize` with an overflow policy;
 * - towards a pullable source upstream it is a boundary: the source reads only when the queue is empty and nothing
 *   is running, so a file → ML chain holds one item per ML node;
 * - towards a boundary downstream it behaves like a pullable source: it starts no item while that one is full.
 * Unlike `mapAsync`, a core emits any number of outputs per item, as they become ready (a streamed reply, one
 * audio frame per synthesized sentence). A core that finishes synchronously (returns no promise) emits
 * synchronously, which keeps marble tests possible with synchronous fake engines.
 *
 * @internal
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { toNodeError } from '../errors.js';
import { Boundary } from '../flow/boundary.js';
import type { OverflowPolicy } from '../flow/flowQueue.js';
import type { Emit } from './coreOperator.js';

/** A node core whose steps may be asynchronous. */
export interface AsyncNodeCore<I, O> {
  /**
   * Asynchronous set-up (e.g. loading code into a sandbox), run on subscribe before any item; items wait in the
   * queue meanwhile, and a failure errors the output at once. Default: none.
   */
  start?(signal: AbortSignal): Promise<void>;
  /** Processes one item; outputs go through `emit` as they are ready. `signal` aborts on unsubscribe. */
  push(item: I, emit: Emit<O>, signal: AbortSignal): void | Promise<void>;
  /** Emits what the core still holds when the source completes. Default: nothing. */
  flush?(emit: Emit<O>, signal: AbortSignal): void | Promise<void>;
  /** Releases resources; called once on complete, error or unsubscribe. Default: nothing. */
  close?(): void;
}

/** Queue options shared by the ML nodes' params. */
export interface AsyncCoreQueueOptions {
  /** Items that may wait while one is processed (only a push source fills it). */
  readonly queueSize: number;
  /** What a full queue does with one more item. */
  readonly overflow: OverflowPolicy;
}

function isPromise(value: unknown): value is Promise<void> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** Builds an operator from an async core factory (called once per subscription). */
export function asyncCoreOperator<I, O>(node: string, createCore: () => AsyncNodeCore<I, O>, options: AsyncCoreQueueOptions): OperatorFunction<I, O> {
  return (source) =>
    new Observable<O>((subscriber) => {
      let core: AsyncNodeCore<I, O>;
      try {
        core = createCore();
      } catch (e) {
        subscriber.error(toNodeError(e, node));
        return undefined;
      }
      const abort = new AbortController();
      let busy = false;
      let flushed = false;
      let closed = false;
      const boundary = new Boundary<I>(
        { size: options.queueSize, overflow: options.overflow, node, label: node },
        (b) => b.queue.length === 0 && !busy && (b.downstream?.ready ?? true),
      );

      const close = (): void => {
        if (closed) return;
        closed = true;
        abort.abort();
        boundary.close();
        core.close?.();
      };
      const fail = (e: unknown): void => {
        if (subscriber.closed) return;
        close();
        subscriber.error(toNodeError(e, node));
      };
      const emit: Emit<O> = (item) => {
        if (!subscriber.closed) subscriber.next(item);
      };
      // Runs one step; returns true when it went asynchronous (pump resumes when it settles).
      const step = (run: () => void | Promise<void>): boolean => {
        busy = true;
        let result: void | Promise<void>;
        try {
          result = run();
        } catch (e) {
          busy = false;
          fail(e);
          return true;
        }
        if (!isPromise(result)) {
          busy = false;
          return false;
        }
        result.then(
          () => {
            busy = false;
            pump();
          },
          (e: unknown) => {
            busy = false;
            fail(e);
          },
        );
        return true;
      };
      const pump = (): void => {
        while (!busy && !subscriber.closed) {
          if (!boundary.downstreamReady(pump)) return;
          if (boundary.queue.length > 0) {
            const item = boundary.queue.shift() as I;
            if (step(() => core.push(item, emit, abort.signal))) return;
            continue;
          }
          if (boundary.sourceDone && !flushed) {
            flushed = true;
            if (step(() => core.flush?.(emit, abort.signal))) return;
            continue;
          }
          if (boundary.sourceDone && flushed) {
            close();
            subscriber.complete();
            return;
          }
          break;
        }
        boundary.gate.notify();
      };

      if (core.start !== undefined) step(() => core.start!(abort.signal));
      if (!subscriber.closed) boundary.connect(source, subscriber, pump);
      return () => {
        try {
          close();
        } catch {
          // A failing close on unsubscribe has nobody to report to; the subscriber is already gone.
        }
      };
    });
}
