import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, of, toArray } from 'rxjs';
import { passThrough } from '../../src/operators/core/passThrough.js';
import { fromAsyncIterable } from '../../src/flow/pullable.js';
import { remote } from '../../src/remote/index.js';
import { childExecutor, inProcessExecutor, type TestExecutor } from './helpers/executors.js';
import { runningSum } from './helpers/testNodes.js';

describe.each(['in-process', 'child'] as const)('remote() against an %s executor', (kind) => {
  let executor: TestExecutor;
  beforeAll(async () => {
    executor = kind === 'in-process' ? await inProcessExecutor() : await childExecutor();
  });
  afterAll(async () => {
    await executor?.close();
  });

  it('passThrough round trip', async () => {
    const out = await lastValueFrom(of(1, 'two', { three: 3 }).pipe(remote({ address: executor.address }, passThrough()), toArray()));
    expect(out).toEqual([1, 'two', { three: 3 }]);
  });

  it('stateful running sum', async () => {
    const out = await lastValueFrom(fromAsyncIterable([100, 1, 2, 3, 4]).pipe(remote<number, number>({ address: executor.address }, runningSum({})), toArray()));
    expect(out).toEqual([100, 101, 103, 106, 110]);
  });
});
