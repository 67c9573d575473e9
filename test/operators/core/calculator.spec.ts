import { describe, expect, expectTypeOf, it } from 'vitest';
import fc from 'fast-check';
import { from, type Observable, of } from 'rxjs';
import { InvalidInputError, InvalidParamsError, RemoteMediaError } from '../../../src/errors.js';
import { fromSpec, type NodeSpec } from '../../../src/node.js';
import { calculator, type CalculatorParams } from '../../../src/operators/core/calculator.js';
import { marbleTest, type RunHelpers } from '../../../src/testing/index.js';

const run = (body: (helpers: RunHelpers) => void): void => marbleTest(body, (a, e) => expect(a).toEqual(e));

/** The first error the node sends for `items`, checked to be a RemoteMediaError. */
function errorFor(params: CalculatorParams, items: unknown[]): RemoteMediaError {
  let caught: unknown;
  (from(items) as Observable<number>).pipe(calculator(params)).subscribe({ error: (e: unknown) => (caught = e) });
  expect(caught).toBeInstanceOf(RemoteMediaError);
  return caught as RemoteMediaError;
}

function fieldOf(params: unknown): string {
  try {
    (calculator as (p: unknown) => unknown)(params);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidParamsError);
    return (e as InvalidParamsError).field;
  }
  throw new Error('expected InvalidParamsError');
}

describe('calculator node', () => {
  it.each([
    ['add', 3, { x: 5, y: -1, z: 3.5 }],
    ['subtract', 3, { x: -1, y: -7, z: -2.5 }],
    ['multiply', 3, { x: 6, y: -12, z: 1.5 }],
    ['divide', 4, { x: 0.5, y: -1, z: 0.125 }],
    ['power', 2, { x: 4, y: 16, z: 0.25 }],
    ['modulo', 3, { x: 2, y: -1, z: 0.5 }],
  ] as const)('%s applies item <op> %d to every number', (operation, operand, expected) => {
    run(({ cold, expectObservable }) => {
      const source = cold('-a--b-c|', { a: 2, b: -4, c: 0.5 });
      expectObservable(source.pipe(calculator({ operation, operand }))).toBe('-x--y-z|', expected);
    });
  });

  it('completes with the source (nothing held)', () => {
    run(({ cold, expectObservable }) => {
      expectObservable(cold('(ab|)', { a: 1, b: 2 }).pipe(calculator({ operation: 'add', operand: 1 }))).toBe('(xy|)', { x: 2, y: 3 });
    });
  });

  it('forwards the source error unchanged', () => {
    run(({ cold, expectObservable }) => {
      const error = new RemoteMediaError('IO', 'upstream failed');
      const source = cold('-a-#', { a: 1 }, error);
      expectObservable(source.pipe(calculator({ operation: 'add', operand: 1 }))).toBe('-x-#', { x: 2 }, error);
    });
  });

  it('unsubscribes from the source when unsubscribed early', () => {
    run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: 1, b: 2, c: 3 });
      expectObservable(source.pipe(calculator({ operation: 'multiply', operand: 2 })), '----!').toBe('-x-y', { x: 2, y: 4 });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('stops at the first failing item and unsubscribes from the source', () => {
    run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: 1, b: 'two', c: 3 });
      const error = new InvalidInputError('core.calculator', '', 'expected a finite number, got string');
      expectObservable((source as Observable<number>).pipe(calculator({ operation: 'add', operand: 1 }))).toBe('-x-#', { x: 2 }, error);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it.each(['divide', 'modulo'] as const)('%s by zero errors with DIVISION_BY_ZERO naming the node, not NaN or Infinity', (operation) => {
    run(({ cold, expectObservable }) => {
      const error = new RemoteMediaError('DIVISION_BY_ZERO', `core.calculator: ${operation} 1 by 0 is a division by zero`);
      expectObservable(cold('-a-b|', { a: 1, b: 2 }).pipe(calculator({ operation, operand: 0 }))).toBe('-#', undefined, error);
    });
    const error = errorFor({ operation, operand: -0 }, [0]);
    expect(error.code).toBe('DIVISION_BY_ZERO');
    expect(error.node).toBe('core.calculator');
  });

  it('a zero divisor on an empty stream completes (the check is per item)', () => {
    run(({ cold, expectObservable }) => {
      expectObservable(cold<number>('--|').pipe(calculator({ operation: 'divide', operand: 0 }))).toBe('--|');
    });
  });

  it('power of 0 with a negative operand is a division by zero', () => {
    expect(errorFor({ operation: 'power', operand: -1 }, [0]).code).toBe('DIVISION_BY_ZERO');
    run(({ cold, expectObservable }) => {
      expectObservable(cold('-a|', { a: 0 }).pipe(calculator({ operation: 'power', operand: 0 }))).toBe('-x|', { x: 1 });
    });
  });

  it('a result that is not finite errors with NODE_FAILED', () => {
    const overflow = errorFor({ operation: 'power', operand: 400 }, [10]);
    expect(overflow.code).toBe('NODE_FAILED');
    expect(overflow.node).toBe('core.calculator');
    expect(overflow.message).toBe('core.calculator: power(10, 400) is Infinity, not a finite number');
    expect(errorFor({ operation: 'multiply', operand: 10 }, [1e308]).code).toBe('NODE_FAILED');
    expect(errorFor({ operation: 'power', operand: 0.5 }, [-8]).message).toMatch(/is NaN/);
  });

  it.each([
    ['a string', '1', 'string'],
    ['NaN', Number.NaN, 'NaN'],
    ['Infinity', Number.POSITIVE_INFINITY, 'Infinity'],
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
    ['a bigint', 1n, 'bigint'],
    ['an object', { value: 1 }, 'object'],
  ])('rejects %s as input with InvalidInputError', (_label, item, got) => {
    const error = errorFor({ operation: 'add', operand: 1 }, [item]);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.node).toBe('core.calculator');
    expect(error.message).toBe(`core.calculator: invalid input: expected a finite number, got ${got}`);
  });

  it('rejects bad params, naming the field', () => {
    expect(fieldOf({ operation: 'sqrt', operand: 1 })).toBe('operation');
    expect(fieldOf({ operand: 1 })).toBe('operation');
    expect(fieldOf({ operation: 'add' })).toBe('operand');
    expect(fieldOf({ operation: 'add', operand: '1' })).toBe('operand');
    expect(fieldOf({ operation: 'add', operand: Number.NaN })).toBe('operand');
    expect(fieldOf({ operation: 'add', operand: Number.POSITIVE_INFINITY })).toBe('operand');
    expect(fieldOf(undefined)).toBe('operation');
  });

  it('carries its spec and rebuilds from it', () => {
    const node = calculator({ operation: 'subtract', operand: 1.5 });
    expect(node.spec).toEqual({ type: 'core.calculator', params: { operation: 'subtract', operand: 1.5 } });
    run(({ cold, expectObservable }) => {
      const rebuilt = fromSpec<number, number>(JSON.parse(JSON.stringify(node.spec)) as NodeSpec);
      expectObservable(cold('-a|', { a: 4 }).pipe(rebuilt)).toBe('-x|', { x: 2.5 });
    });
  });

  it('add then subtract the same integer gives the input back (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1e9, max: 1e9 })), fc.integer({ min: -1e9, max: 1e9 }), (items, k) => {
        const out: number[] = [];
        from(items)
          .pipe(calculator({ operation: 'add', operand: k }), calculator({ operation: 'subtract', operand: k }))
          .subscribe((x) => out.push(x));
        expect(out).toEqual(items);
      }),
    );
  });

  it('never emits a non-finite number (property)', () => {
    const operation = fc.constantFrom('add', 'subtract', 'multiply', 'divide', 'power', 'modulo' as const);
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true })), operation, fc.double({ noNaN: true, noDefaultInfinity: true }), (items, op, operand) => {
        const out: number[] = [];
        let error: unknown;
        from(items)
          .pipe(calculator({ operation: op, operand }))
          .subscribe({ next: (x) => out.push(x), error: (e: unknown) => (error = e) });
        expect(out.every(Number.isFinite)).toBe(true);
        if (error !== undefined) expect(error).toBeInstanceOf(RemoteMediaError);
        else expect(out).toHaveLength(items.length);
      }),
    );
  });

  it('types numbers in, numbers out', () => {
    expectTypeOf(of(1).pipe(calculator({ operation: 'add', operand: 1 }))).toEqualTypeOf<Observable<number>>();
  });
});
