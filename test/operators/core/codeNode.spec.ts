import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { from, lastValueFrom, toArray } from 'rxjs';
import { InvalidParamsError, RemoteMediaError, SandboxLimitError } from '../../../src/errors.js';
import { audioFrame } from '../../../src/media/audioFrame.js';
import { fromSpec } from '../../../src/node.js';
import { codeNode } from '../../../src/operators/core/codeNode.js';
import { packageModule } from '../../../src/sandbox/packageCode.js';
import { setUserCodeEnabled } from '../../../src/sandbox/policy.js';
import { marbleTest, type RunHelpers } from '../../../src/testing/index.js';

const run = (body: (helpers: RunHelpers) => void): void => marbleTest(body, (a, e) => expect(a).toEqual(e));
const pairs = await packageModule(new URL('../../sandbox/fixtures/runningTotal.ts', import.meta.url));

function errorOf(source: unknown[], node: ReturnType<typeof codeNode>): RemoteMediaError {
  let caught: unknown;
  from(source).pipe(node).subscribe({ error: (e: unknown) => (caught = e) });
  expect(caught).toBeInstanceOf(RemoteMediaError);
  return caught as RemoteMediaError;
}

describe('codeNode node', () => {
  it('runs a shipped function on every item', () => {
    run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b--c|', { a: 1, b: 2, c: 3 }).pipe(codeNode((x: number) => x * 10))).toBe('-x-y--z|', { x: 10, y: 20, z: 30 });
    });
  });

  it('a bundled module with a local import: process holds state, flush emits the remainder on complete', () => {
    run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b-c|', { a: 1, b: 2, c: 5 }).pipe(codeNode(pairs))).toBe('---x--(y|)', { x: 3, y: 5 });
    });
  });

  it('many: true emits every item of the returned arrays', () => {
    run(({ cold, expectObservable }) => {
      const node = codeNode((s: string) => s.split(' '), { many: true });
      expectObservable(cold('-a----b|', { a: 'x y', b: 'z' }).pipe(node)).toBe('-(pq)-r|', { p: 'x', q: 'y', r: 'z' });
    });
  });

  it('forwards the source error unchanged', () => {
    run(({ cold, expectObservable }) => {
      const error = new RemoteMediaError('IO', 'upstream failed');
      expectObservable(cold('-a-#', { a: 1 }, error).pipe(codeNode((x: number) => x + 1))).toBe('-x-#', { x: 2 }, error);
    });
  });

  it('unsubscribes from the source when unsubscribed early', () => {
    run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: 1, b: 2, c: 3 });
      expectObservable(source.pipe(codeNode((x: number) => -x)), '^--!').toBe('-x-', { x: -1 });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('a throw in user code errors NODE_FAILED with the sandbox message and stack', () => {
    const error = errorOf([1, 2], codeNode((x: number) => {
      if (x === 2) throw new RangeError('two is too many');
      return x;
    }));
    expect(error).toMatchObject({ code: 'NODE_FAILED', node: 'core.codeNode' });
    expect(error.message).toBe('core.codeNode: RangeError: two is too many');
    expect(error.remoteStack).toContain('two is too many');
  });

  it('an infinite loop errors SandboxLimitError DEADLINE_EXCEEDED within timeoutMs + 50 ms', () => {
    const start = performance.now();
    const error = errorOf([1], codeNode(() => {
      for (;;) {
        /* forever */
      }
    }, { timeoutMs: 100 }));
    expect(performance.now() - start).toBeLessThan(150 + 100); // + isolate creation
    expect(error).toBeInstanceOf(SandboxLimitError);
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', node: 'core.codeNode' });
  });

  it('a memory bomb errors SandboxLimitError RESOURCE_EXHAUSTED; the next subscription works', () => {
    const error = errorOf([1], codeNode(() => {
      const hoard: number[][] = [];
      for (;;) hoard.push(new Array(1_000_000).fill(1));
    }, { memoryLimitMb: 16, timeoutMs: 10_000 }));
    expect(error).toBeInstanceOf(SandboxLimitError);
    expect(error).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    run(({ cold, expectObservable }) => {
      expectObservable(cold('-a|', { a: 1 }).pipe(codeNode((x: number) => x + 1, { memoryLimitMb: 16 }))).toBe('-x|', { x: 2 });
    });
  });

  it('process, require, fetch and timers are unreachable; console only when granted', async () => {
    const probe = (): string => {
      const g = globalThis as Record<string, unknown>;
      return ['process', 'require', 'fetch', 'setTimeout', 'console'].map((k) => `${k}:${typeof g[k]}`).join(',');
    };
    const [plain] = await lastValueFrom(from([0]).pipe(codeNode(probe), toArray()));
    expect(plain).toBe('process:undefined,require:undefined,fetch:undefined,setTimeout:undefined,console:undefined');
    const [granted] = await lastValueFrom(from([0]).pipe(codeNode(probe, { capabilities: ['console'] }), toArray()));
    expect(granted).toContain('console:object');
  });

  it('prototype pollution in one subscription does not reach the next one', async () => {
    const pollute = codeNode(() => {
      (Object.prototype as Record<string, unknown>)['polluted'] = 1;
      return String(({} as Record<string, unknown>)['polluted']);
    });
    const look = codeNode(() => String(({} as Record<string, unknown>)['polluted']));
    expect(await lastValueFrom(from([0]).pipe(pollute))).toBe('1');
    expect(await lastValueFrom(from([0]).pipe(look))).toBe('undefined');
  });

  it('AudioFrames cross bit-exact', async () => {
    const frame = audioFrame({ samples: new Float32Array([0.5, -0.25, 1e-7, -1]), sampleRate: 16000, channels: 1, pts: 20_000 });
    const out = await lastValueFrom(from([frame]).pipe(codeNode((f: { samples: Float32Array }) => ({ ...f, samples: f.samples.map((s) => s * 2) }))));
    expect(out).toEqual({ ...frame, samples: new Float32Array([1, -0.5, 2e-7, -2]) });
  });

  it('property: a shipped pure function equals the same function run locally', async () => {
    const f = (x: number): number => (x * 31 + 7) % 1000;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: -1e6, max: 1e6 }), { maxLength: 30 }), async (xs) => {
        expect(await lastValueFrom(from(xs).pipe(codeNode(f), toArray()))).toEqual(xs.map(f));
      }),
      { numRuns: 25 },
    );
  });

  it('the spec is serializable and rebuilds the same node (as remote() does)', async () => {
    const node = codeNode((x: number) => x + 1, { timeoutMs: 200 });
    const rebuilt = fromSpec(JSON.parse(JSON.stringify(node.spec)) as typeof node.spec);
    expect(node.spec.params).toMatchObject({ timeoutMs: 200, memoryLimitMb: 64, many: false, capabilities: [] });
    expect(await lastValueFrom(from([1, 2]).pipe(rebuilt, toArray()))).toEqual([2, 3]);
  });

  it('bad params are refused naming the field', () => {
    const field = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidParamsError);
        return (e as InvalidParamsError).field;
      }
      throw new Error('expected InvalidParamsError');
    };
    expect(field(() => codeNode((x: number) => x, { timeoutMs: 0 }))).toBe('timeoutMs');
    expect(field(() => codeNode((x: number) => x, { memoryLimitMb: 4 }))).toBe('memoryLimitMb');
    expect(field(() => codeNode((x: number) => x, { capabilities: ['fs' as 'console'] }))).toBe('capabilities.0');
    expect(field(() => codeNode({ code: '' }))).toBe('code');
    // A module without process() is refused when the node starts.
    const error = errorOf([1], codeNode({ code: 'var __rmModule = { other: 1 };' }));
    expect(error).toMatchObject({ code: 'INVALID_PARAMS', field: 'code' });
  });

  it('is refused when user code is turned off (executor --no-code)', () => {
    setUserCodeEnabled(false);
    try {
      expect(() => codeNode((x: number) => x)).toThrow(/does not run user code/);
    } finally {
      setUserCodeEnabled(true);
    }
  });
});
