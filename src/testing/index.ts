/**
 * Helpers for marble-testing nodes, yours and ours, with RxJS's `TestScheduler`. Test-framework agnostic: the
 * default assertion is `node:assert`'s `deepStrictEqual`; pass your framework's (`(a, e) => expect(a).toEqual(e)`).
 *
 * Errors in marble frames are compared by class name, `code` and message (never by stack), so an expected
 * `new RemoteMediaError('DIVISION_BY_ZERO', ...)` matches the error the node threw.
 *
 * @example
 * ```ts
 * import { marbleTest } from 'remotemedia/testing';
 * it('adds', () => marbleTest(({ cold, expectObservable }) => {
 *   expectObservable(cold('-a-b|', { a: 1, b: 2 }).pipe(calculator({ operation: 'add', operand: 1 })))
 *     .toBe('-x-y|', { x: 2, y: 3 });
 * }));
 * ```
 * @module
 */
import { deepStrictEqual } from 'node:assert/strict';
import { TestScheduler, type RunHelpers } from 'rxjs/testing';

/** Compares two values, throwing when they differ. */
export type AssertEqual = (actual: unknown, expected: unknown) => void;

/** Comparable view of an error: class name, code (if any) and message. */
export interface ErrorSummary {
  readonly errorName: string;
  readonly code: unknown;
  readonly message: string;
}

/** Reduces an error to what marble tests compare: name, `code`, message. Non-errors pass through. */
export function summarizeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const summary: ErrorSummary = { errorName: error.name, code: (error as { code?: unknown }).code, message: error.message };
  return summary;
}

function normalizeFrames(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((frame: unknown) => {
    const f = frame as { notification?: { kind?: string; error?: unknown } };
    if (f?.notification?.kind === 'E') return { ...f, notification: { ...f.notification, error: summarizeError(f.notification.error) } };
    return frame;
  });
}

/**
 * A fresh `TestScheduler` whose matcher compares errors by name, code and message.
 * @param assertEqual - Deep-equality assertion. Default: `node:assert/strict` `deepStrictEqual`.
 */
export function createTestScheduler(assertEqual: AssertEqual = deepStrictEqual): TestScheduler {
  return new TestScheduler((actual, expected) => assertEqual(normalizeFrames(actual), normalizeFrames(expected)));
}

/**
 * Runs `body` in a fresh {@link createTestScheduler}'s `run()` (virtual time, marbles flushed at the end).
 * @param assertEqual - Default: `node:assert/strict` `deepStrictEqual`.
 */
export function marbleTest<T>(body: (helpers: RunHelpers) => T, assertEqual: AssertEqual = deepStrictEqual): T {
  return createTestScheduler(assertEqual).run(body);
}

export type { RunHelpers } from 'rxjs/testing';
