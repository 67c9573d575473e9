/**
 * Pullable sources: observables that read their next item only when the boundary downstream has room
 * (see {@link Demand}). Without a boundary downstream they read as fast as the consumer returns from `next`.
 *
 * @module
 */
import type { Readable } from 'node:stream';
import { Observable } from 'rxjs';
import { RemoteMediaError } from '../errors.js';
import { currentDemand } from './demand.js';

/**
 * Builds a pullable observable from an async iterator factory. The factory runs on subscribe (cold, one iterator per
 * subscription); on unsubscribe the iterator's `return()` runs, so generators' `finally` blocks close files.
 *
 * @param open - Creates the iterator; may be async (e.g. opening a file).
 * @param name - Used in error messages, e.g. `'fromWavFile(a.wav)'`.
 */
export function pullable<T>(open: () => AsyncIterator<T> | Promise<AsyncIterator<T>>, name = 'pullable'): Observable<T> {
  return new Observable<T>((subscriber) => {
    const demand = currentDemand();
    demand?.attachPullable();
    let iterator: AsyncIterator<T> | undefined;
    let finished = false;
    const pump = async (): Promise<void> => {
      iterator = await open();
      while (!subscriber.closed) {
        if (demand !== undefined && !demand.ready) await demand.whenReady();
        if (subscriber.closed) return;
        const result = await iterator.next();
        if (result.done === true) {
          finished = true;
          subscriber.complete();
          return;
        }
        if (subscriber.closed) return;
        subscriber.next(result.value);
      }
    };
    pump().catch((e: unknown) => {
      finished = true;
      subscriber.error(e instanceof RemoteMediaError ? e : new RemoteMediaError('IO', `${name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
    });
    return () => {
      demand?.detachPullable();
      if (!finished && iterator?.return !== undefined) {
        // Closing is best effort: a failing return() has no subscriber left to report to.
        void Promise.resolve(iterator.return()).catch(() => undefined);
      }
    };
  });
}

/** A pullable observable over an async (or sync) iterable; `return()` runs on unsubscribe. */
export function fromAsyncIterable<T>(iterable: AsyncIterable<T> | Iterable<T>): Observable<T> {
  return pullable<T>(() => {
    if (Symbol.asyncIterator in iterable) return iterable[Symbol.asyncIterator]();
    const it = (iterable as Iterable<T>)[Symbol.iterator]();
    return {
      next: async () => it.next(),
      return: async () => it.return?.() ?? { done: true, value: undefined },
    };
  }, 'fromAsyncIterable');
}

/**
 * A pullable observable over a Node.js Readable: it reads a chunk only on demand (the stream stays paused otherwise,
 * so its own highWaterMark bounds what it buffers) and destroys the stream on unsubscribe.
 */
export function fromReadable<T = Buffer>(readable: Readable): Observable<T> {
  return pullable<T>(() => {
    const it = readable[Symbol.asyncIterator]() as AsyncIterator<T>;
    return {
      next: () => it.next(),
      return: async () => {
        readable.destroy();
        return { done: true, value: undefined };
      },
    };
  }, 'fromReadable');
}
