// Never export a function named `then` from a module: `await import()` would treat the module as a thenable.
/**
 * Chaining values that may or may not be promises, so that a node stays synchronous when its engine is (fake
 * engines in marble tests) and asynchronous otherwise.
 * @internal
 */
import type { MaybePromise } from '../../../engines/types.js';

/** True for promises and other thenables. */
export function isThenable<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** `f(value)`, synchronously when `value` is not a promise. */
export function andThen<T, R>(value: MaybePromise<T>, f: (resolved: T) => MaybePromise<R>): MaybePromise<R> {
  return isThenable(value) ? value.then(f) : f(value);
}

/** Runs `f` on each item in order, waiting for each result when it is a promise. */
export function forEachInOrder<T>(items: readonly T[], f: (item: T) => MaybePromise<void>): MaybePromise<void> {
  for (let i = 0; i < items.length; i++) {
    const result = f(items[i]!);
    if (isThenable(result)) return result.then(() => forEachInOrder(items.slice(i + 1), f));
  }
  return undefined;
}
