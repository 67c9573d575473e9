import { describe, expect, expectTypeOf, it } from 'vitest';
import { from, Observable, of, toArray, lastValueFrom } from 'rxjs';
import { InvalidParamsError, RemoteMediaError } from '../../../src/errors.js';
import { fromSpec, type NodeOperator } from '../../../src/node.js';
import { passThrough } from '../../../src/operators/core/passThrough.js';
import { marbleTest, type RunHelpers } from '../../../src/testing/index.js';

const run = (body: (helpers: RunHelpers) => void): void => marbleTest(body, (a, e) => expect(a).toEqual(e));

describe('passThrough node', () => {
  it('emits every item unchanged, with the same timing', () => {
    run(({ cold, expectObservable }) => {
      const source = cold('-a--b-c---|', { a: 1, b: 'two', c: { three: 3 } });
      expectObservable(source.pipe(passThrough())).toBe('-a--b-c---|', { a: 1, b: 'two', c: { three: 3 } });
    });
  });

  it('completes with the source, holding nothing back (synchronous group)', () => {
    run(({ cold, expectObservable }) => {
      expectObservable(cold('(ab|)').pipe(passThrough())).toBe('(ab|)');
      expectObservable(cold('|').pipe(passThrough())).toBe('|');
    });
  });

  it('forwards the source error unchanged', () => {
    run(({ cold, expectObservable }) => {
      const error = new RemoteMediaError('IO', 'disk gone');
      expectObservable(cold('-a-#', { a: 1 }, error).pipe(passThrough())).toBe('-a-#', { a: 1 }, error);
    });
  });

  it('unsubscribes from the source when unsubscribed early', () => {
    run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-|');
      expectObservable(source.pipe(passThrough()), '----!').toBe('-a-b');
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('does not break unsubscription chains', () => {
    run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-|');
      const chained = new Observable<string>((subscriber) => source.pipe(passThrough()).subscribe(subscriber));
      expectObservable(chained, '---!').toBe('-a-');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('adds no layer: the output is the source observable itself', () => {
    const source$ = of(1, 2, 3);
    expect(source$.pipe(passThrough())).toBe(source$);
  });

  it('passes items of any kind by reference, including null and undefined', async () => {
    const object = { x: 1 };
    const bytes = new Uint8Array([1, 2]);
    const out = await lastValueFrom(from([object, bytes, null, undefined, 'text']).pipe(passThrough(), toArray()));
    expect(out).toHaveLength(5);
    expect(out[0]).toBe(object);
    expect(out[1]).toBe(bytes);
    expect(out.slice(2)).toEqual([null, undefined, 'text']);
  });

  it('carries a frozen spec with empty params and rebuilds from it', () => {
    const node = passThrough();
    expect(node.spec).toEqual({ type: 'core.passThrough', params: {} });
    expect(Object.isFrozen(node.spec)).toBe(true);
    run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b|').pipe(fromSpec(JSON.parse(JSON.stringify(node.spec)) as typeof node.spec))).toBe('-a-b|');
    });
  });

  it('rejects params that are not an object with InvalidParamsError', () => {
    const build = passThrough as unknown as (params: unknown) => unknown;
    expect(() => build(42)).toThrow(InvalidParamsError);
    expect(() => fromSpec({ type: 'core.passThrough', params: [] as unknown as Record<string, unknown> })).toThrow(InvalidParamsError);
  });

  it('keeps the item type', () => {
    expectTypeOf(passThrough<number>()).toEqualTypeOf<NodeOperator<number, number>>();
    expectTypeOf(of(1).pipe(passThrough())).toEqualTypeOf<Observable<number>>();
  });
});
