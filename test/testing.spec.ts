import { describe, expect, it } from 'vitest';
import { AssertionError } from 'node:assert';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { InvalidInputError, RemoteMediaError } from '../src/errors.js';
import { createTestScheduler, marbleTest, summarizeError, type AssertEqual } from '../src/testing/index.js';

const vitestEqual: AssertEqual = (actual, expected) => expect(actual).toEqual(expected);

/** Runs one marble assertion comparing the error `actual` sends with `expected`. */
function compareErrors(actual: unknown, expected: unknown, assertEqual?: AssertEqual): void {
  marbleTest(({ cold, expectObservable }) => {
    expectObservable(cold('-a-#', { a: 1 }, actual)).toBe('-a-#', { a: 1 }, expected);
  }, assertEqual);
}

describe('marble testing helpers', () => {
  describe('marbleTest', () => {
    it('passes for equal values and timing, and returns what the body returns', () => {
      const result = marbleTest(({ cold, expectObservable }) => {
        expectObservable(cold('-a-b|', { a: 1, b: 2 }).pipe(map((x) => x * 2))).toBe('-x-y|', { x: 2, y: 4 });
        return 'done';
      }, vitestEqual);
      expect(result).toBe('done');
    });

    it('fails on different values or timing', () => {
      expect(() =>
        marbleTest(({ cold, expectObservable }) => expectObservable(cold('-a|', { a: 1 })).toBe('-a|', { a: 2 }), vitestEqual),
      ).toThrow();
      expect(() => marbleTest(({ cold, expectObservable }) => expectObservable(cold('-a|')).toBe('--a|'), vitestEqual)).toThrow();
    });

    it('uses node:assert deepStrictEqual by default', () => {
      expect(() => marbleTest(({ cold, expectObservable }) => expectObservable(cold('-a|')).toBe('-b|'))).toThrow(AssertionError);
      expect(() => marbleTest(({ cold, expectObservable }) => expectObservable(cold('-a|')).toBe('-a|'))).not.toThrow();
    });

    it('checks subscriptions', () => {
      const pass = (): void =>
        marbleTest(({ cold, expectObservable, expectSubscriptions }) => {
          const source = cold('-a-b-|');
          expectObservable(source, '--!').toBe('-a');
          expectSubscriptions(source.subscriptions).toBe('^-!');
        }, vitestEqual);
      const fail = (): void =>
        marbleTest(({ cold, expectObservable, expectSubscriptions }) => {
          const source = cold('-a-b-|');
          expectObservable(source, '--!').toBe('-a');
          expectSubscriptions(source.subscriptions).toBe('^--!');
        }, vitestEqual);
      expect(pass).not.toThrow();
      expect(fail).toThrow();
    });
  });

  describe.each([
    ['vitest toEqual', vitestEqual],
    ['default deepStrictEqual', undefined],
  ] as const)('error comparison (%s)', (_label, assertEqual) => {
    const actual = new RemoteMediaError('DIVISION_BY_ZERO', 'core.calculator: divide 1 by 0 is a division by zero', { node: 'core.calculator' });

    it('matches errors with the same class name, code and message (other instance, stack, node, cause)', () => {
      const expected = new RemoteMediaError('DIVISION_BY_ZERO', actual.message, { cause: new Error('elsewhere') });
      expect(expected.stack).not.toBe(actual.stack);
      expect(() => compareErrors(actual, expected, assertEqual)).not.toThrow();
    });

    it('fails when only the code differs', () => {
      const expected = new RemoteMediaError('NODE_FAILED', actual.message, { node: 'core.calculator' });
      expect(() => compareErrors(actual, expected, assertEqual)).toThrow();
    });

    it('fails when only the message differs', () => {
      const expected = new RemoteMediaError('DIVISION_BY_ZERO', 'core.calculator: divide 2 by 0 is a division by zero');
      expect(() => compareErrors(actual, expected, assertEqual)).toThrow();
    });

    it('fails when only the class name differs', () => {
      const invalid = new InvalidInputError('core.calculator', '', 'expected a finite number, got string');
      const sameCodeAndMessage = new RemoteMediaError('INVALID_INPUT', invalid.message);
      expect(() => compareErrors(invalid, invalid, assertEqual)).not.toThrow();
      expect(() => compareErrors(invalid, sameCodeAndMessage, assertEqual)).toThrow();
    });

    it('compares plain errors without a code by name and message', () => {
      expect(() => compareErrors(new TypeError('x'), new TypeError('x'), assertEqual)).not.toThrow();
      expect(() => compareErrors(new TypeError('x'), new RangeError('x'), assertEqual)).toThrow();
    });

    it('compares non-Error error values as they are', () => {
      expect(() => compareErrors('boom', 'boom', assertEqual)).not.toThrow();
      expect(() => compareErrors('boom', 'bang', assertEqual)).toThrow();
      expect(() => compareErrors(actual, 'boom', assertEqual)).toThrow();
    });
  });

  describe('createTestScheduler', () => {
    it('returns a fresh TestScheduler with the same error matching', () => {
      const a = createTestScheduler(vitestEqual);
      const b = createTestScheduler(vitestEqual);
      expect(a).toBeInstanceOf(TestScheduler);
      expect(a).not.toBe(b);
      const err = (code: 'IO' | 'INTERNAL'): RemoteMediaError => new RemoteMediaError(code, 'failed');
      expect(() => a.run(({ cold, expectObservable }) => expectObservable(cold('#', undefined, err('IO'))).toBe('#', undefined, err('IO')))).not.toThrow();
      expect(() => b.run(({ cold, expectObservable }) => expectObservable(cold('#', undefined, err('IO'))).toBe('#', undefined, err('INTERNAL')))).toThrow();
    });
  });

  describe('summarizeError', () => {
    it('reduces an error to name, code and message; passes other values through', () => {
      expect(summarizeError(new InvalidInputError('text.textTransform', '', 'expected a string, got number'))).toEqual({
        errorName: 'InvalidInputError',
        code: 'INVALID_INPUT',
        message: 'text.textTransform: invalid input: expected a string, got number',
      });
      expect(summarizeError(new Error('plain'))).toEqual({ errorName: 'Error', code: undefined, message: 'plain' });
      const value = { reason: 'x' };
      expect(summarizeError(value)).toBe(value);
    });
  });
});
