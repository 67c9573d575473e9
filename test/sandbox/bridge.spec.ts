/**
 * Hostile code against the bridge, in process: every path by which user code could run outside the sandbox clock
 * (results, thrown values, error stacks, iterator results, thenables, proxies, polluted intrinsics), every
 * allocation that could escape the memory limit, and the host's event loop staying free meanwhile (issue #11).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RemoteMediaError, SandboxLimitError } from '../../src/errors.js';
import { BRIDGE_LIMITS } from '../../src/sandbox/bridgeSource.js';
import { IsolatePool } from '../../src/sandbox/isolatePool.js';
import type { Sandbox } from '../../src/sandbox/sandbox.js';

const T = 150;
/**
 * The sandboxes here run with the host's backstop deadline far away (`hostDeadlineGraceMs`), so that a case passes
 * only if isolated-vm's own clock stopped the user code, i.e. it ran inside the bridge, under the time limit. That
 * clock reports a bit late on a loaded machine (up to ~50 ms measured), hence a looser bound here; the production
 * bound (timeoutMs + 50 ms, host deadline included) is asserted by the 'host' cases, codeNode.spec.ts and
 * test/abuse/sandbox.spec.ts.
 */
const HOST_GRACE_MS = 2000;
const STOP_BOUND_MS = T + 250;
/**
 * Stop bound for the host deadline (timeoutMs + 25 ms). This suite runs in parallel with browser and model tests on 2
 * cores, where a timer can fire late; the issue's strict `timeoutMs + 50 ms` is asserted in the serial abuse suite
 * (test/abuse/sandbox.spec.ts), against a real executor.
 */
const ISSUE_STOP_BOUND_MS = T + 150;
/**
 * A call that held the host's event loop would hold it for the whole call (≥ T). The issue's 100 ms bound is
 * asserted by the abuse suite's probe, which runs one file at a time; here (parallel forks) scheduling noise alone
 * reached 110 ms once.
 */
const LOOP_BOUND_MS = T;

let pool: IsolatePool;
/** For the cases that need room (bounds of a result bigger than the small pool's heap). */
let bigPool: IsolatePool;
const open: Sandbox[] = [];

beforeAll(() => {
  pool = new IsolatePool({ memoryLimitMb: 32, maxIdle: 2 });
  bigPool = new IsolatePool({ memoryLimitMb: 256, maxIdle: 0 });
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.dispose();
});
afterAll(() => {
  pool.close();
  bigPool.close();
});

/** A sandbox holding an instance of the default export of `source` (a class expression in plain JS). */
async function shipped(source: string, timeoutMs = T): Promise<Sandbox> {
  const sandbox = await (timeoutMs > T ? bigPool : pool).createSandbox({ timeoutMs, label: 'Hostile', capabilities: ['console'], consoleSink: () => undefined, hostDeadlineGraceMs: HOST_GRACE_MS });
  open.push(sandbox);
  await sandbox.load(`var __rmModule = { default: (${source}) };`);
  await sandbox.create('', []);
  return sandbox;
}

/** Runs `attack`, measuring how long it took and the longest gap of a 5 ms host timer meanwhile. */
async function timed<T>(attack: () => Promise<T>): Promise<{ outcome: T | RemoteMediaError; ms: number; loopGapMs: number }> {
  let last = performance.now();
  let loopGapMs = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    loopGapMs = Math.max(loopGapMs, now - last);
    last = now;
  }, 5);
  const start = performance.now();
  let outcome: T | RemoteMediaError;
  try {
    outcome = await attack();
  } catch (e) {
    outcome = e as RemoteMediaError;
  }
  const ms = performance.now() - start;
  clearInterval(tick);
  loopGapMs = Math.max(loopGapMs, performance.now() - last);
  return { outcome, ms, loopGapMs };
}

/**
 * Asserts the attack was stopped in time with the host free meanwhile. `by: 'isolate'` (default) also asserts it
 * was isolated-vm's own clock that stopped it, i.e. the user code ran under the time limit (inside the bridge),
 * not during a copy the clock does not cover (which only the host's backstop deadline would catch).
 */
async function expectStopped(attack: () => Promise<unknown>, by: 'isolate' | 'host' = 'isolate'): Promise<void> {
  const { outcome, ms, loopGapMs } = await timed(attack);
  expect(outcome).toBeInstanceOf(SandboxLimitError);
  expect(outcome).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
  const cause = String(((outcome as Error).cause as Error | undefined)?.message);
  // Either clock may win under load (isolated-vm's timer thread can report late); both stop the call.
  if (by === 'isolate') expect(cause).toMatch(/Script execution timed out|no answer within/);
  else expect(cause).toMatch(/no answer within/);
  expect(ms, 'stopped in time').toBeLessThan(by === 'host' ? ISSUE_STOP_BOUND_MS : STOP_BOUND_MS);
  expect(loopGapMs, 'host event loop kept answering').toBeLessThan(LOOP_BOUND_MS);
}

const SPIN = 'for (;;) {}';

describe('sandbox bridge: no user code outside the clock', () => {
  it('a result with a looping getter is stopped (the copy runs inside, under the clock)', async () => {
    const s = await shipped(`class { f() { return { a: 1, get x() { ${SPIN} } }; } }`);
    await expectStopped(() => s.call('f', []));
  });

  it('a getter nested deep in a result, in an array element, in a Map value', async () => {
    const s = await shipped(`class {
      deep() { return { a: [{ b: { get c() { ${SPIN} } } }] }; }
      arr() { const a = [1, 2]; Object.defineProperty(a, 1, { get() { ${SPIN} } }); return a; }
      map() { return new Map([['k', { get v() { ${SPIN} } }]]); }
    }`);
    await expectStopped(() => s.call('deep', []));
    const s2 = await shipped(`class { arr() { const a = [1, 2]; Object.defineProperty(a, 1, { get() { ${SPIN} } }); return a; } }`);
    await expectStopped(() => s2.call('arr', []));
    const s3 = await shipped(`class { map() { return new Map([['k', { get v() { ${SPIN} } }]]); } }`);
    await expectStopped(() => s3.call('map', []));
  });

  it('a thrown object whose message, name or stack getter loops', async () => {
    for (const field of ['message', 'name', 'stack']) {
      const s = await shipped(`class { f() { throw { get ${field}() { ${SPIN} } }; } }`);
      await expectStopped(() => s.call('f', []));
    }
  });

  it('Error.prepareStackTrace that loops while the stack of a thrown Error is formatted', async () => {
    const s = await shipped(`class { f() { Error.prepareStackTrace = () => { ${SPIN} }; throw new Error('x'); } }`);
    await expectStopped(() => s.call('f', []));
  });

  it('toJSON, valueOf and Symbol.toPrimitive are never called by the copy', async () => {
    const s = await shipped(`class {
      f() {
        class Tricky { constructor() { this.n = 1; } toJSON() { ${SPIN} } valueOf() { ${SPIN} } [Symbol.toPrimitive]() { ${SPIN} } }
        return new Tricky();
      }
    }`);
    expect(await s.call('f', [])).toEqual({ value: { n: 1 } });
  });

  it('a thenable whose then loops, and a promise that never settles, are stopped', async () => {
    const s = await shipped(`class { f() { return { then() { ${SPIN} } }; } }`);
    await expectStopped(() => s.call('f', []));
    // Nothing runs while a promise waits, so isolated-vm's clock does not count: the host's deadline stops it.
    const s2 = await pool.createSandbox({ timeoutMs: T, label: 'Hostile' });
    open.push(s2);
    await s2.load('var __rmModule = { default: class { f() { return new Promise(() => {}); } } };');
    await s2.create('', []);
    await expectStopped(() => s2.call('f', []), 'host');
    // With the production deadline (both clocks), a looping then is stopped within the issue's bound.
    const s3 = await pool.createSandbox({ timeoutMs: T, label: 'Hostile' });
    open.push(s3);
    await s3.load(`var __rmModule = { default: class { f() { return { then() { ${SPIN} } }; } } };`);
    await s3.create('', []);
    const { outcome, ms } = await timed(() => s3.call('f', []));
    expect(outcome).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(ms).toBeLessThan(ISSUE_STOP_BOUND_MS);
  });

  it('an infinite microtask loop is stopped', async () => {
    const s = await shipped('class { f() { const loop = () => Promise.resolve().then(loop); loop(); return 1; } }');
    await expectStopped(() => s.call('f', []));
  });

  it('iterator protocol: a next() result whose done or value getter loops', async () => {
    const s = await shipped(`class { *[Symbol.iterator]() {} f() { return { [Symbol.iterator]() { return this; }, next() { return { get done() { ${SPIN} } }; } }; } }`);
    const r = (await s.call('f', [])) as { iterator: number };
    expect(r.iterator).toBeGreaterThan(0);
    await expectStopped(() => s.next(r.iterator, 1));
    const s2 = await shipped(`class { f() { return { [Symbol.iterator]() { return this; }, next() { return { done: false, value: { get v() { ${SPIN} } } }; } }; } }`);
    const r2 = (await s2.call('f', [])) as { iterator: number };
    await expectStopped(() => s2.next(r2.iterator, 2));
  });

  it('an iterator whose return() loops is stopped on return and on dispose', async () => {
    const s = await shipped(`class { f() { return { [Symbol.iterator]() { return this; }, next() { return { done: false, value: 1 }; }, return() { ${SPIN} } }; } }`);
    const r = (await s.call('f', [])) as { iterator: number };
    await expectStopped(() => s.return(r.iterator));
    const s2 = await shipped(`class { f() { return { [Symbol.iterator]() { return this; }, next() { return { done: false, value: 1 }; }, return() { ${SPIN} } }; } }`);
    await s2.call('f', []);
    const { ms } = await timed(() => s2.dispose());
    expect(ms).toBeLessThan(STOP_BOUND_MS);
    expect(s2.usable).toBe(false);
  });

  it('a Proxy result whose traps loop is stopped; a well-behaved Proxy is copied as plain data', async () => {
    const s = await shipped(`class { f() { return new Proxy({}, { ownKeys() { ${SPIN} } }); } }`);
    await expectStopped(() => s.call('f', []));
    const s2 = await shipped('class { f() { return new Proxy({ a: 1 }, {}); } }');
    expect(await s2.call('f', [])).toEqual({ value: { a: 1 } });
  });

  it('get() of a property whose getter loops, or that holds a looping thenable', async () => {
    const s = await shipped(`class { get x() { ${SPIN} } }`);
    await expectStopped(() => s.get('x'));
    const s2 = await shipped(`class { constructor() { this.p = { then() { ${SPIN} } }; } }`);
    await expectStopped(() => s2.get('p'));
  });

  it('a constructor that loops, and load() of code with a top-level loop, are stopped', async () => {
    const s = await pool.createSandbox({ timeoutMs: T, hostDeadlineGraceMs: HOST_GRACE_MS });
    open.push(s);
    await s.load(`var __rmModule = { default: class { constructor() { ${SPIN} } } };`);
    await expectStopped(() => s.create('', []));
    const s2 = await pool.createSandbox({ timeoutMs: T, hostDeadlineGraceMs: HOST_GRACE_MS });
    open.push(s2);
    await expectStopped(() => s2.load(SPIN));
    const s3 = await pool.createSandbox({ timeoutMs: T, hostDeadlineGraceMs: HOST_GRACE_MS });
    open.push(s3);
    await expectStopped(() => s3.load(`throw { get message() { ${SPIN} } };`));
  });

  it('process()/flush() of a node module: results and throws are copied under the clock', async () => {
    const s = await pool.createSandbox({ timeoutMs: T, hostDeadlineGraceMs: HOST_GRACE_MS });
    open.push(s);
    await s.load(`var __rmModule = { process(x) { return { get y() { ${SPIN} } }; }, flush() { return 1; } };`);
    expect(await s.hasProcess()).toBe(true);
    await expectStopped(() => s.process(1));
    const s2 = await pool.createSandbox({ timeoutMs: T, hostDeadlineGraceMs: HOST_GRACE_MS });
    open.push(s2);
    await s2.load(`var __rmModule = { process(x) { return x; }, flush() { throw { get stack() { ${SPIN} } }; } };`);
    expect(await s2.process(1)).toBe(1);
    await expectStopped(() => s2.flush());
  });

  it('a polluted realm cannot hijack the bridge (prototype setters, replaced then/defineProperty/isArray)', async () => {
    const pollute = `
      const mk = Object.create, assign = Object.assign;
      const d = (o) => assign(mk(null), o);
      Object.defineProperty(Array.prototype, '0', d({ set(v) { ${SPIN} }, get() { ${SPIN} }, configurable: true }));
      Reflect.defineProperty = () => { ${SPIN} };
      Reflect.apply = () => { ${SPIN} };
      Object.create = () => { ${SPIN} };
      Array.isArray = () => { ${SPIN} };
      Map.prototype.get = () => { ${SPIN} };
      Map.prototype.forEach = () => { ${SPIN} };
      String.prototype.slice = () => { ${SPIN} };
      Function.prototype.call = () => { ${SPIN} };
      Function.prototype.apply = () => { ${SPIN} };
      Object.defineProperty(Object.prototype, 'value', d({ set(v) { ${SPIN} }, configurable: true }));
      Object.defineProperty(Object.prototype, 'ok', d({ set(v) { ${SPIN} }, configurable: true }));`;
    const s = await shipped(`class { f() { ${pollute} return [1, { a: [2] }, new Map([['k', 3]])]; } g() { throw new Error('still data'); } h() { return { then: 1 }; } }`);
    const { outcome, loopGapMs } = await timed(() => s.call('f', []));
    expect(loopGapMs).toBeLessThan(LOOP_BOUND_MS);
    expect(outcome).toEqual({ value: [1, { a: [2] }, { k: 3 }] });
    await expect(s.call('g', [])).rejects.toThrow('Hostile: still data');
    expect(await s.call('h', [])).toEqual({ value: { then: 1 } });
    // A replaced Promise.prototype.then (with a constructor getter, so that await calls it) can choose what the
    // bridge's own await resolves to: the bridge converts it after its last await, so its getter runs on the clock.
    const hijack = await shipped(`class { f() {
      Promise.prototype.then = function (res) { res({ ok: true, value: { get x() { ${SPIN} } } }); };
      Object.defineProperty(Promise.prototype, 'constructor', { get() { return Object; } });
      return 1;
    } }`);
    await expectStopped(() => hijack.call('f', []));
    // (An inherited \`then\` getter makes every awaited object call it: that runs on the clock, and is stopped.)
    const s2 = await shipped(`class { f() { Object.defineProperty(Object.prototype, 'then', { get() { ${SPIN} } }); return {}; } }`);
    await expectStopped(() => s2.call('f', []));
  });

  it('the bridge global is unreachable from user code', async () => {
    const s = await shipped("class { f() { return [typeof __rm, typeof globalThis.__rmLog, Object.keys(globalThis).filter((k) => k !== 'gc').sort().join(',')]; } }");
    // (\`gc\` exists only because this test process runs with --expose-gc: V8 flags are process-wide.)
    expect(await s.call('f', [])).toEqual({ value: ['undefined', 'undefined', '__rmModule,console'] });
  });
});

describe('sandbox bridge: bounded results and errors', () => {
  it('results over the depth, entry or byte bounds fail NODE_FAILED naming the bound; the sandbox stays usable', async () => {
    const s = await shipped(`class {
      big(n) { return [new Uint8Array(n - 1024), 'x'.repeat(512)]; }
      cycle() { const o = {}; o.self = o; return o; }
      wide() { return new Array(${BRIDGE_LIMITS.maxEntries + 1}).fill(0); }
      dag() { let o = { leaf: 1 }; for (let i = 0; i < 40; i++) o = { a: o, b: o }; return o; }
      ok() { return 'ok'; }
    }`, 10_000);
    await expect(s.call('cycle', [])).rejects.toThrow(/nested deeper than 64 levels/);
    await expect(s.call('wide', [])).rejects.toThrow(/more than 1000000 entries/);
    await expect(s.call('dag', [])).rejects.toThrow(/more than 1000000 entries/);
    expect(((await s.call('big', [BRIDGE_LIMITS.maxBytes])) as { value: unknown[] }).value).toHaveLength(2);
    await expect(s.call('big', [BRIDGE_LIMITS.maxBytes + 1])).rejects.toThrow(new RegExp(`larger than ${BRIDGE_LIMITS.maxBytes} bytes`));
    await expect(s.call('ok', [])).resolves.toEqual({ value: 'ok' });
  });

  it('a function or symbol in a result is a clear error', async () => {
    const s = await shipped('class { f() { return { g() {} }; } h() { return Symbol("s"); } }');
    await expect(s.call('f', [])).rejects.toThrow(/a function cannot leave the sandbox/);
    await expect(s.call('h', [])).rejects.toThrow(/a symbol cannot leave the sandbox/);
  });

  it('data kinds the wire carries come out as fresh copies', async () => {
    const s = await shipped(`class { f() {
      const u = new Uint8Array([1, 2, 3, 4]);
      return { t: new Float32Array([0.5, -1]), view: u.subarray(1, 3), d: new Date(5), m: new Map([['a', 1]]), s: new Set([1, 2]),
        n: null, u: undefined, b: 10n, nested: [[1], { x: 'y' }], e: new RangeError('bad') };
    } }`);
    const { value } = (await s.call('f', [])) as { value: Record<string, unknown> };
    expect(value).toMatchObject({ t: new Float32Array([0.5, -1]), view: new Uint8Array([2, 3]), d: new Date(5), m: { a: 1 }, s: [1, 2], n: null, b: 10n, nested: [[1], { x: 'y' }] });
    expect(value['e']).toMatchObject({ name: 'RangeError', message: 'bad' });
  });

  it('a thrown value keeps its name and message, cut to a bounded length', async () => {
    const s = await shipped("class { f() { throw new TypeError('m'.repeat(1_000_000)); } g() { throw 42; } }");
    const error = (await s.call('f', []).catch((e: unknown) => e)) as RemoteMediaError;
    expect(error).toMatchObject({ code: 'NODE_FAILED' });
    expect(error.message.startsWith('Hostile: TypeError: mmm')).toBe(true);
    expect(error.message.length).toBeLessThan(BRIDGE_LIMITS.maxMessageChars + 100);
    expect((error.remoteStack ?? '').length).toBeLessThanOrEqual(BRIDGE_LIMITS.maxStackChars + 1);
    await expect(s.call('g', [])).rejects.toThrow('Hostile: 42');
  });
});

describe('sandbox bridge: resources', () => {
  it('WebAssembly, SharedArrayBuffer, Atomics and resizable ArrayBuffers are gone', async () => {
    const s = await shipped(`class { f() {
      const ab = new ArrayBuffer(8, { maxByteLength: 2 ** 30 });
      const viaView = new (new Uint8Array(1).buffer.constructor)(8, { maxByteLength: 2 ** 30 });
      return [typeof WebAssembly, typeof SharedArrayBuffer, typeof Atomics, ab.resizable, viaView.resizable, typeof ab.resize, ab instanceof ArrayBuffer];
    } }`);
    expect(await s.call('f', [])).toEqual({ value: ['undefined', 'undefined', 'undefined', false, false, 'undefined', true] });
  });

  it('array buffers count against the memory limit; the host RSS does not grow with them', async () => {
    const rss = process.memoryUsage().rss;
    const s = await shipped('class { f() { const keep = []; for (let i = 0; i < 16; i++) keep.push(new ArrayBuffer(64 * 2 ** 20)); return keep.length; } }');
    const error = (await s.call('f', []).catch((e: unknown) => e)) as RemoteMediaError;
    expect(error).toBeInstanceOf(RemoteMediaError);
    expect(error.message).toMatch(/Array buffer allocation failed|memory limit/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(200 * 2 ** 20);
  });

  it('a string-repeat bomb and deep recursion fail as errors; the sandbox stays usable', async () => {
    const s = await shipped("class { bomb() { return 'x'.repeat(2 ** 29).length; } deep() { const f = (n) => f(n + 1) + 1; return f(0); } ok() { return 1; } }");
    await expect(s.call('bomb', [])).rejects.toThrow(/Invalid string length/);
    await expect(s.call('deep', [])).rejects.toThrow(/Maximum call stack size exceeded/);
    await expect(s.call('ok', [])).resolves.toEqual({ value: 1 });
  });

  it('an allocation loop hits the memory limit: RESOURCE_EXHAUSTED, the isolate is disposed', async () => {
    const s = await shipped('class { f() { const hoard = []; for (;;) hoard.push(new Array(100000).fill(1.5)); } }', 10_000);
    const error = await s.call('f', []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SandboxLimitError);
    expect(error).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    expect(s.usable).toBe(false);
  });

  it('bulk array built-ins that V8 runs without interrupt or heap checks refuse huge arrays (isolated-vm #107, #186)', async () => {
    // Each of these, unguarded, escaped the limits in a 32 MB isolate: fill(60 Mi) aborted the whole process,
    // Array.from(2^26) ran 13 s past its timeout and a dispose, fill(0) of 16 Mi elements allocated 128 MB. (An
    // array of 2^26 is held as a dictionary, cheaply; these built-ins turn it into one flat allocation.)
    const s = await shipped(`class {
      fill() { return new Array(60 * 2 ** 20).fill().length; }
      fill0() { const a = []; a.length = 2 ** 26; return a.fill(0).length; }
      from() { return Array.from({ length: 2 ** 26 }).length; }
      sort() { const a = []; a.length = 2 ** 26; return a.sort().length; }
      small() { return new Array(1000).fill(1).concat([2]).sort().length; }
    }`);
    const rss = process.memoryUsage().rss;
    for (const name of ['fill', 'fill0', 'from', 'sort']) {
      const { outcome, ms } = await timed(() => s.call(name, []));
      expect(outcome, name).toBeInstanceOf(RemoteMediaError);
      expect((outcome as Error).message, name).toMatch(/arrays longer than 4194304 elements are refused in the sandbox/);
      expect(ms, name).toBeLessThan(T);
    }
    expect(process.memoryUsage().rss - rss).toBeLessThan(100 * 2 ** 20);
    expect(await s.call('small', [])).toEqual({ value: 1001 });
  });

  /** A sandbox granted console whose class has method `f` with `body`; returns the lines its sink received. */
  async function consoleLines(body: string): Promise<{ lines: string[]; ms: number }> {
    const lines: string[] = [];
    const sandbox = await pool.createSandbox({ timeoutMs: 1000, capabilities: ['console'], consoleSink: (_l, line) => lines.push(line) });
    open.push(sandbox);
    await sandbox.load(`var __rmModule = { default: class { f() { ${body} } } };`);
    await sandbox.create('', []);
    const start = performance.now();
    await sandbox.call('f', []);
    const ms = performance.now() - start;
    await new Promise((r) => setTimeout(r, 50));
    return { lines, ms };
  }

  it('console is bounded: maxConsoleLines lines, then one note and nothing more', async () => {
    const { lines } = await consoleLines('for (let i = 0; i < 5000; i++) console.log(i);');
    expect(lines.length).toBe(BRIDGE_LIMITS.maxConsoleLines + 1);
    expect(lines[BRIDGE_LIMITS.maxConsoleLines - 1]).toBe(String(BRIDGE_LIMITS.maxConsoleLines - 1));
    expect(lines.at(-1)).toMatch(/console output truncated.*maxConsoleLines/);
  });

  it('console: maxConsoleArgs arguments per line are kept, the N+1st is summarised (20 000 args × 4 KB once took 5 s and 328 MB of stderr)', async () => {
    const N = BRIDGE_LIMITS.maxConsoleArgs;
    const { lines } = await consoleLines(`console.log(...Array.from({ length: ${N} }, (_, i) => 'a' + i)); console.log(...Array.from({ length: ${N + 1} }, (_, i) => 'b' + i));`);
    expect(lines[0]).toBe(Array.from({ length: N }, (_, i) => 'a' + i).join(' '));
    expect(lines[1]).toBe(`${Array.from({ length: N }, (_, i) => 'b' + i).join(' ')} ...(1 more arguments)`);
    const flood = await consoleLines("const s = 'A'.repeat(4096); const a = new Array(20000).fill(s); for (let j = 0; j < 10; j++) console.log(...a);");
    expect(flood.ms).toBeLessThan(500);
    expect(flood.lines.length).toBeLessThanOrEqual(Math.ceil(BRIDGE_LIMITS.maxConsoleBytes / BRIDGE_LIMITS.maxConsoleLineBytes) + 1);
    for (const line of flood.lines) expect(line.length).toBeLessThanOrEqual(BRIDGE_LIMITS.maxConsoleLineBytes + 200);
  });

  it('console: a line is cut at maxConsoleLineBytes (N kept whole, N+1 cut)', async () => {
    const N = BRIDGE_LIMITS.maxConsoleLineBytes;
    const { lines } = await consoleLines(`console.log('x'.repeat(${N - 2}), 'y'); console.log('x'.repeat(${N - 2}), 'yz');`);
    expect(lines[0]).toBe(`${'x'.repeat(N - 2)} y`);
    expect(lines[0]!.length).toBe(N);
    expect(lines[1]).toBe(`${'x'.repeat(N - 2)} y`);
  });

  it('console: maxConsoleBytes per sandbox (N bytes pass, the next byte gets one truncation note, then nothing)', async () => {
    const per = BRIDGE_LIMITS.maxConsoleLineBytes;
    const count = BRIDGE_LIMITS.maxConsoleBytes / per;
    const { lines } = await consoleLines(`for (let i = 0; i < ${count}; i++) console.log('z'.repeat(${per})); console.log('!'); console.log('never');`);
    expect(lines.length).toBe(count + 1);
    expect(lines.slice(0, count).join('').length).toBe(BRIDGE_LIMITS.maxConsoleBytes);
    expect(lines.at(-1)).toMatch(/console output truncated.*maxConsoleBytes/);
  });

  it('console: newlines, ESC and other control or non-ASCII characters are escaped, so one call is one line (no forged log lines)', async () => {
    const { lines } = await consoleLines(String.raw`console.log('hi\n{"level":60,"msg":"forged"}\r\x1b[2J\u2028é\\', { get a() { return 1; } });`);
    expect(lines).toEqual([String.raw`hi\n{"level":60,"msg":"forged"}\r\u001b[2J\u2028\u00e9\\ {"a":1}`]);
    // eslint-disable-next-line no-control-regex
    expect(lines[0]).not.toMatch(/[\x00-\x1f\x7f-\uffff]/);
  });
});
