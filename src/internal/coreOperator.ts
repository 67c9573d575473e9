/**
 * The one plumbing helper every node uses: turns a pure, synchronous core (`push`, `flush`, `close`) into an RxJS
 * operator. It owns the rules so that nodes hold no try/catch or teardown code:
 * - the core is created on subscribe (per-subscription state; the operator value is reusable);
 * - anything the core throws becomes a {@link RemoteMediaError} carrying the node type, sent as `error`;
 * - on source complete, `flush()` emits what the core holds, then the output completes;
 * - `close()` runs exactly once on complete, error or unsubscribe.
 * Upstream is subscribed synchronously inside subscribe, so demand context (flow control) propagates through.
 *
 * @internal
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { toNodeError } from '../errors.js';

/** Emits one output item downstream. */
export type Emit<O> = (item: O) => void;

/** A node's pure core: no timers, no I/O; time comes from the data (pts, sample counts). */
export interface NodeCore<I, O> {
  /** Consumes one input item, emitting zero or more outputs. */
  push(item: I, emit: Emit<O>): void;
  /** Emits what the core still holds when the source completes. Default: nothing. */
  flush?(emit: Emit<O>): void;
  /** Releases resources; called once on complete, error or unsubscribe. Default: nothing. */
  close?(): void;
}

/**
 * Builds an operator from a core factory.
 * @param node - Node type used in errors, e.g. `'audio.audioBuffer'`.
 * @param createCore - Called once per subscription.
 */
export function coreOperator<I, O>(node: string, createCore: () => NodeCore<I, O>): OperatorFunction<I, O> {
  return (source) =>
    new Observable<O>((subscriber) => {
      let core: NodeCore<I, O>;
      try {
        core = createCore();
      } catch (e) {
        subscriber.error(toNodeError(e, node));
        return undefined;
      }
      let closed = false;
      const close = (): void => {
        if (closed) return;
        closed = true;
        core.close?.();
      };
      const emit: Emit<O> = (item) => subscriber.next(item);
      const subscription = source.subscribe({
        next(item) {
          if (subscriber.closed) return;
          try {
            core.push(item, emit);
          } catch (e) {
            close();
            subscriber.error(toNodeError(e, node));
          }
        },
        error(e: unknown) {
          close();
          subscriber.error(e);
        },
        complete() {
          try {
            core.flush?.(emit);
          } catch (e) {
            close();
            subscriber.error(toNodeError(e, node));
            return;
          }
          close();
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        try {
          close();
        } catch {
          // A failing close on unsubscribe has nobody to report to; the subscriber is already gone.
        }
      };
    });
}
