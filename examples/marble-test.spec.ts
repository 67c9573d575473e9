/**
 * Example: define your own node and marble-test it, then marble-test a built-in one.
 *
 * Run: `npx vitest run examples/marble-test.spec.ts`
 *
 * In your project the imports are the package's public entry points:
 *   import { defineNode, calculator, RemoteMediaError } from 'remotemedia';
 *   import { marbleTest } from 'remotemedia/testing';
 * Inside this repository we import the same modules by relative path.
 */
import { describe, expect, it } from 'vitest';
import { scan } from 'rxjs';
import { z } from 'zod';
import { calculator, defineNode, InvalidParamsError, RemoteMediaError } from '../src/index.js';
import { marbleTest, type RunHelpers } from '../src/testing/index.js';

// 1. A user-defined node. A node is a plain RxJS operator plus a registered, serializable spec: `defineNode`
//    validates the params with the zod schema (filling in defaults), so the same spec can be rebuilt on an executor.
//    Describe every field with its unit and default: `listNodes()` publishes them as JSON Schema.
const runningSum = defineNode(
  'example.runningSum', // `family.name`, unique in the process
  z
    .object({
      initial: z.number().default(0).describe('Value the sum starts from. Default: 0'),
    })
    .describe('Emits the running sum of the numbers seen so far'),
  // The factory gets validated params and returns any RxJS operator. Keep state inside the operator (scan's
  // accumulator lives per subscription), so one node value can be subscribed many times.
  ({ initial }) => scan((sum: number, x: number) => sum + x, initial),
  { description: 'Emits the running sum of the numbers seen so far', input: 'number', output: 'number' },
);

// 2. Marble tests. `marbleTest` runs the body on a fresh TestScheduler in virtual time; pass your framework's
//    deep-equality assertion. Errors in `#` frames are compared by class name, `code` and message.
const run = (body: (helpers: RunHelpers) => void): void => marbleTest(body, (actual, expected) => expect(actual).toEqual(expected));

describe('runningSum (a user-defined node)', () => {
  it('emits the running sum', () => {
    run(({ cold, expectObservable }) => {
      const source = cold('-a-b--c-|', { a: 1, b: 2, c: 3 });
      const expected = '   -x-y--z-|';
      expectObservable(source.pipe(runningSum({ initial: 10 }))).toBe(expected, { x: 11, y: 13, z: 16 });
    });
  });

  it('carries its spec, defaults filled in', () => {
    expect(runningSum().spec).toEqual({ type: 'example.runningSum', params: { initial: 0 } });
  });

  it('forwards an upstream error', () => {
    run(({ cold, expectObservable }) => {
      const error = new RemoteMediaError('IO', 'microphone unplugged');
      expectObservable(cold('-a-#', { a: 5 }, error).pipe(runningSum())).toBe('-x-#', { x: 5 }, error);
    });
  });

  it('unsubscribes upstream when the consumer leaves early', () => {
    run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: 1, b: 1, c: 1 });
      expectObservable(source.pipe(runningSum()), '----!').toBe('-x-y', { x: 1, y: 2 });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('rejects bad params before any data flows, naming the field', () => {
    expect(() => runningSum({ initial: 'ten' as unknown as number })).toThrow(InvalidParamsError);
    expect(() => runningSum({ initial: 'ten' as unknown as number })).toThrow(/field 'initial'/);
  });
});

describe('calculator (a built-in node)', () => {
  it('composes with other nodes in pipe()', () => {
    run(({ cold, expectObservable }) => {
      const source = cold('-a-b-|', { a: 1, b: 2 });
      const expected = '   -x-y-|';
      expectObservable(source.pipe(calculator({ operation: 'multiply', operand: 3 }), runningSum())).toBe(expected, { x: 3, y: 9 });
    });
  });

  it('errors with DIVISION_BY_ZERO instead of emitting Infinity', () => {
    run(({ cold, expectObservable }) => {
      // The expected error only needs the same class, code and message; stack and other fields are ignored.
      const error = new RemoteMediaError('DIVISION_BY_ZERO', 'core.calculator: divide 4 by 0 is a division by zero');
      expectObservable(cold('-a-b|', { a: 4, b: 8 }).pipe(calculator({ operation: 'divide', operand: 0 }))).toBe('-#', undefined, error);
    });
  });
});
