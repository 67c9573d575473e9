import { describe, expect, it } from 'vitest';
import { InvalidParamsError } from '../../../src/errors.js';
import { bounded } from '../../../src/operators/core/bounded.js';
import { marbleTest } from '../../../src/testing/index.js';

const assertEqual = (a: unknown, e: unknown): void => {
  expect(a).toEqual(e);
};

describe('bounded node', () => {
  it('passes items straight through when no boundary is downstream', () =>
    marbleTest(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b--c|').pipe(bounded({ size: 1 }))).toBe('-a-b--c|');
    }, assertEqual));

  it('forwards errors', () =>
    marbleTest(({ cold, expectObservable }) => {
      expectObservable(cold('-a-#', undefined, new Error('x')).pipe(bounded())).toBe('-a-#', undefined, new Error('x'));
    }, assertEqual));

  it('releases the source on unsubscribe', () =>
    marbleTest(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d|');
      expectObservable(source.pipe(bounded()), '^--!').toBe('-a-');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    }, assertEqual));

  it('has a spec with defaults filled in', () => {
    expect(bounded().spec).toEqual({ type: 'core.bounded', params: { size: 16, overflow: 'block' } });
  });

  it('rejects bad params naming the field', () => {
    expect(() => bounded({ size: 0 })).toThrow(InvalidParamsError);
    expect(() => bounded({ size: 0 })).toThrow(/field 'size'/);
    expect(() => bounded({ overflow: 'sometimes' as 'block' })).toThrow(/field 'overflow'/);
  });
});
