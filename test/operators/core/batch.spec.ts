import { describe, expect, expectTypeOf, it } from 'vitest';
import fc from 'fast-check';
import { from, lastValueFrom, Observable, of, toArray } from 'rxjs';
import { InvalidParamsError, RemoteMediaError } from '../../../src/errors.js';
import { fromSpec, type NodeSpec } from '../../../src/node.js';
import { batch } from '../../../src/operators/core/batch.js';
import { marbleTest, type RunHelpers } from '../../../src/testing/index.js';

const run = (body: (helpers: RunHelpers) => void): void => marbleTest(body, (a, e) => expect(a).toEqual(e));

function fieldOf(build: () => unknown): string {
  try {
    build();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidParamsError);
    expect((e as InvalidParamsError).code).toBe('INVALID_PARAMS');
    return (e as InvalidParamsError).field;
  }
  throw new Error('expected InvalidParamsError');
}

describe('batch node', () => {
  it('emits an array each time size items have arrived', () => {
    run(({ cold, expectObservable }) => {
      const source = cold('-a-b-c-d-e-f-|');
      const expected = '   -----x-----y-|';
      expectObservable(source.pipe(batch({ size: 3 }))).toBe(expected, { x: ['a', 'b', 'c'], y: ['d', 'e', 'f'] });
    });
  });

  it('emits the partial batch on complete', () => {
    run(({ cold, expectObservable }) => {
      const source = cold('-a-b-c-d-|');
      const expected = '   -----x---(y|)';
      expectObservable(source.pipe(batch({ size: 3 }))).toBe(expected, { x: ['a', 'b', 'c'], y: ['d'] });
    });
  });

  it('never emits an empty array', () => {
    run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b-c-|').pipe(batch({ size: 3 }))).toBe('-----x-|', { x: ['a', 'b', 'c'] });
      expectObservable(cold('---|').pipe(batch({ size: 3 }))).toBe('---|');
    });
  });

  it('with size 1 wraps every item', () => {
    run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b|').pipe(batch({ size: 1 }))).toBe('-x-y|', { x: ['a'], y: ['b'] });
    });
  });

  it('forwards the source error and drops the partial batch', () => {
    run(({ cold, expectObservable }) => {
      const error = new RemoteMediaError('IO', 'read failed');
      const source = cold('-a-b-c-d-#', undefined, error);
      expectObservable(source.pipe(batch({ size: 3 }))).toBe('-----x---#', { x: ['a', 'b', 'c'] }, error);
    });
  });

  it('unsubscribes from the source when unsubscribed early, emitting no partial batch', () => {
    run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-e-f-|');
      expectObservable(source.pipe(batch({ size: 3 })), '--------!').toBe('-----x---', { x: ['a', 'b', 'c'] });
      expectSubscriptions(source.subscriptions).toBe('^-------!');
    });
  });

  it('does not break unsubscription chains', () => {
    run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-|');
      const chained = new Observable<string[]>((subscriber) => source.pipe(batch({ size: 2 })).subscribe(subscriber));
      expectObservable(chained, '------!').toBe('---x---', { x: ['a', 'b'] });
      expectSubscriptions(source.subscriptions).toBe('^-----!');
    });
  });

  it('keeps state per subscription, so one operator value can be reused', () => {
    const node = batch<string>({ size: 2 });
    run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b-c|').pipe(node)).toBe('---x--(y|)', { x: ['a', 'b'], y: ['c'] });
      expectObservable(cold('--d-e|').pipe(node)).toBe('----x|', { x: ['d', 'e'] });
    });
  });

  it('emits fresh arrays that later items do not touch', async () => {
    const out = await lastValueFrom(from([1, 2, 3, 4, 5]).pipe(batch({ size: 2 }), toArray()));
    expect(out).toEqual([[1, 2], [3, 4], [5]]);
    expect(new Set(out).size).toBe(3);
  });

  it('accepts items of any kind, including null and undefined, without copying them', async () => {
    const object = { x: 1 };
    const out = await lastValueFrom(from([object, null, undefined]).pipe(batch({ size: 2 }), toArray()));
    expect(out).toEqual([[object, null], [undefined]]);
    expect(out[0]?.[0]).toBe(object);
  });

  it('concatenating the batches gives back the input; all but the last are full (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.anything(), { maxLength: 60 }), fc.integer({ min: 1, max: 10 }), (items, size) => {
        const batches: unknown[][] = [];
        from(items).pipe(batch({ size })).subscribe((b) => batches.push(b));
        expect(batches.flat()).toEqual(items);
        expect(batches).toHaveLength(Math.ceil(items.length / size));
        batches.forEach((b, i) => {
          if (i < batches.length - 1) expect(b).toHaveLength(size);
          else expect(b.length).toBeGreaterThanOrEqual(1);
        });
      }),
    );
  });

  it('rejects a size that is not a positive integer, naming the field', () => {
    const build = batch as unknown as (params?: unknown) => unknown;
    for (const size of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '3', null]) {
      expect(fieldOf(() => build({ size }))).toBe('size');
    }
    expect(fieldOf(() => build({}))).toBe('size');
    expect(fieldOf(() => build())).toBe('size');
    expect(() => build({ size: 0 })).toThrow(/core\.batch.*'size'/);
  });

  it('carries its spec and rebuilds from it', () => {
    const node = batch({ size: 2 });
    expect(node.spec).toEqual({ type: 'core.batch', params: { size: 2 } });
    const rebuilt = fromSpec(JSON.parse(JSON.stringify(node.spec)) as NodeSpec);
    run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b-c|').pipe(rebuilt)).toBe('---x--(y|)', { x: ['a', 'b'], y: ['c'] });
    });
  });

  it('types its output as arrays of the input items', () => {
    expectTypeOf(of(1, 2).pipe(batch({ size: 2 }))).toEqualTypeOf<Observable<number[]>>();
  });
});
