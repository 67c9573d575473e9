/**
 * Test-only nodes, registered in the test process and (via `--module`) in child-process executors.
 */
import { z } from 'zod';
import { mapAsync } from '../../../src/flow/mapAsync.js';
import { coreOperator } from '../../../src/internal/coreOperator.js';
import { defineNode, fromSpec, hasNode, type NodeOperator } from '../../../src/node.js';

/** Live instances of test.resource (in this process), to check teardown. */
export const liveResources = { count: 0 };

function define(): void {
  defineNode(
    'test.runningSum',
    z.object({}),
    () =>
      coreOperator('test.runningSum', () => {
        let sum = 0;
        return { push: (x: number, emit) => emit((sum += x)) };
      }),
    { description: 'Running sum', input: 'number', output: 'number' },
  );
  defineNode(
    'test.fail',
    z.object({ failOn: z.number() }),
    ({ failOn }) =>
      coreOperator('test.fail', () => ({
        push: (x: number, emit) => {
          if (x === failOn) throw new Error(`boom at ${x}`);
          emit(x);
        },
      })),
  );
  defineNode('test.slowEcho', z.object({ delayMs: z.number().int().min(0) }), ({ delayMs }) =>
    mapAsync((x: unknown) => new Promise((resolve) => setTimeout(() => resolve(x), delayMs)), { label: 'test.slowEcho' }),
  );
  defineNode('test.fanOut', z.object({ count: z.number().int().positive() }), ({ count }) =>
    coreOperator('test.fanOut', () => ({
      push: (x: number, emit) => {
        for (let i = 0; i < count; i++) emit(x * 10 + i);
      },
    })),
  );
  // An amplifier for write-backpressure tests: each input becomes `count` outputs of `bytes` bytes.
  defineNode('test.inflate', z.object({ count: z.number().int().positive().max(64), bytes: z.number().int().positive().max(4 * 2 ** 20) }), ({ count, bytes }) =>
    coreOperator('test.inflate', () => ({
      push: (_x: unknown, emit) => {
        for (let i = 0; i < count; i++) emit(new Uint8Array(bytes).fill(i + 1));
      },
    })),
  );
  defineNode('test.sumEvery', z.object({ n: z.number().int().positive() }), ({ n }) =>
    coreOperator('test.sumEvery', () => {
      let sum = 0;
      let seen = 0;
      return {
        push: (x: number, emit) => {
          sum += x;
          if (++seen === n) {
            emit(sum);
            sum = 0;
            seen = 0;
          }
        },
        flush: (emit) => {
          if (seen > 0) emit(sum);
        },
      };
    }),
  );
  defineNode('test.resource', z.object({}), () =>
    coreOperator('test.resource', () => {
      liveResources.count++;
      return { push: (x: unknown, emit) => emit(x), close: () => void liveResources.count-- };
    }),
  );
}

// Idempotent so that the module can be imported by the test and by an in-process executor's `modules`.
if (!hasNode('test.runningSum')) define();

type Builder<P, I, O> = (params: P) => NodeOperator<I, O>;
const builder =
  <P, I, O>(type: string): Builder<P, I, O> =>
  (params: P) =>
    fromSpec<I, O>({ type, params: params as Record<string, unknown> });

export const runningSum = builder<Record<string, never>, number, number>('test.runningSum');
export const failOn = builder<{ failOn: number }, number, number>('test.fail');
export const slowEcho = builder<{ delayMs: number }, unknown, unknown>('test.slowEcho');
export const fanOut = builder<{ count: number }, number, number>('test.fanOut');
export const sumEvery = builder<{ n: number }, number, number>('test.sumEvery');
export const resource = builder<Record<string, never>, unknown, unknown>('test.resource');
export const inflate = builder<{ count: number; bytes: number }, unknown, Uint8Array>('test.inflate');
