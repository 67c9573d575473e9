/**
 * The 'wasm' capability (issue #11, point 2): WebAssembly is off unless the process allows it and the code asks for
 * it, and then every memory and compiled module is reserved from a budget that is part of the sandbox's
 * memoryLimitMb. Real isolated-vm; the modules are built as bytes (fixtures/wasmModules.ts).
 */
import { lastValueFrom, of, toArray } from 'rxjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RemoteMediaError } from '../../src/errors.js';
import { codeNode } from '../../src/operators/core/codeNode.js';
import { WASM_LIMITS } from '../../src/sandbox/bridgeSource.js';
import { IsolatePool, liveIsolates } from '../../src/sandbox/isolatePool.js';
import { resetSandboxCaps, setSandboxCaps, wasmMemorySplit } from '../../src/sandbox/policy.js';
import type { Sandbox } from '../../src/sandbox/sandbox.js';
import { memoryMaxOffset, wasmModule } from './fixtures/wasmModules.js';

/** Placeholder in a shipped function's source, replaced by the module's bytes. */
declare const BYTES: number[];

const LIMIT_MB = 64;
const BUDGET = wasmMemorySplit(LIMIT_MB).wasmBudgetMb * 2 ** 20;
const PAGE = 65536;
const MIB = 2 ** 20;

const pool = new IsolatePool({ memoryLimitMb: LIMIT_MB, maxIdle: 0 });
const open: Sandbox[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.dispose();
  resetSandboxCaps();
});
afterAll(() => pool.close());

/**
 * A sandbox (granted 'wasm' unless told otherwise) whose `process(src)` evaluates `src` as a global script and
 * returns its completion value (awaited when it is a promise: process must be synchronous, so a `.then` result
 * is kept in `globalThis.out` for the next call).
 */
async function sandbox(capabilities: ('wasm' | 'console')[] = ['wasm'], timeoutMs = 2000): Promise<(src: string, item?: unknown) => Promise<unknown>> {
  const s = await pool.createSandbox({ timeoutMs, capabilities, label: 'wasm' });
  open.push(s);
  await s.load('var __rmModule = { process: function (m) { globalThis.item = m.item; return (0, eval)(m.src); } };');
  return (src, item) => s.process({ src, item });
}

/** `src` is an async function body; its result (or thrown message) lands in globalThis.out, read by a second call. */
async function settle(run: (src: string, item?: unknown) => Promise<unknown>, body: string, item?: unknown): Promise<unknown> {
  await run(`globalThis.out = undefined; (async function () { ${body} })().then(function (v) { globalThis.out = { v: v }; }, function (e) { globalThis.out = { e: String(e && e.message) }; }); 0`, item);
  return run('globalThis.out');
}

describe("sandbox 'wasm' capability", () => {
  it('off by default: no WebAssembly without the capability; a process that does not allow it refuses it by name', async () => {
    const run = await sandbox([]);
    expect(await run('typeof WebAssembly')).toBe('undefined');
    // Default caps (a library process) do not include 'wasm': the chain is refused when built, naming it.
    const build = (): unknown => codeNode((x: number) => x, { capabilities: ['wasm'] });
    expect(build).toThrow(RemoteMediaError);
    expect(build).toThrow(/capability 'wasm' is not granted by this executor \(start it with --sandbox-capability wasm; it allows: console\)/);
    // Too small a memory limit to split is refused too.
    setSandboxCaps({ capabilities: ['console', 'wasm'] });
    expect(() => codeNode((x: number) => x, { capabilities: ['wasm'], memoryLimitMb: 8 })).toThrow(/'wasm' needs memoryLimitMb ≥ 16/);
    expect(() => setSandboxCaps({ capabilities: ['wasm'], memoryLimitMb: 8 })).toThrow(/'wasm' needs memoryLimitMb ≥ 16/);
  });

  it('granted by the process and asked for by the code: a codeNode runs a module with a bounded memory', async () => {
    setSandboxCaps({ capabilities: ['console', 'wasm'] });
    const bytes = [...wasmModule({ memory: { min: 1, max: 2 } })];
    const node = codeNode(
      ((n: number) => {
        type Wasm = { Module: new (b: Uint8Array) => unknown; Instance: new (m: unknown) => { exports: Record<string, () => number> } };
        const W = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;
        const instance = new W.Instance(new W.Module(new Uint8Array(BYTES)));
        return instance.exports['f']!() + n;
      }) as (n: never) => unknown,
      { capabilities: ['wasm'], memoryLimitMb: 32 },
    );
    // The shipped function's source names BYTES: put the literal in.
    const params = node.spec.params as { code: string };
    const patched = codeNode({ code: params.code.replace('BYTES', JSON.stringify(bytes)) }, { capabilities: ['wasm'], memoryLimitMb: 32 });
    expect(await lastValueFrom(of(1, 2).pipe(patched, toArray()))).toEqual([43, 44]);
  });

  it('a module with a declared maximum within the budget runs; instanceof and the prototypes keep working', async () => {
    const run = await sandbox();
    const result = await run(
      `var m = new WebAssembly.Module(item); var i = new WebAssembly.Instance(m, {});
       [i.exports.f(), i.exports.memory.buffer.byteLength, m instanceof WebAssembly.Module, i instanceof WebAssembly.Instance,
        i.exports.memory instanceof WebAssembly.Memory, Object.prototype.toString.call(WebAssembly), WebAssembly.Module.exports(m).length,
        WebAssembly.validate(item), WebAssembly.validate(new Uint8Array(3))]`,
      wasmModule({ memory: { min: 1, max: 2 } }),
    );
    expect(result).toEqual([42, PAGE, true, true, true, '[object WebAssembly]', 3, true, false]);
    // The promise forms compile synchronously inside the call (V8's background compile never reports back in
    // isolated-vm) and resolve.
    expect(await settle(run, 'var r = await WebAssembly.instantiate(item); var j = await WebAssembly.instantiate(await WebAssembly.compile(item)); return [r.instance.exports.f(), j.exports.f()];', wasmModule({ memory: { min: 1, max: 2 } }))).toEqual({ v: [42, 42] });
  });

  it('a memory without a maximum, a shared memory, a 64-bit memory and a table without a maximum are refused', async () => {
    const run = await sandbox();
    const attempt = (bytes: Uint8Array): Promise<unknown> =>
      run('try { new WebAssembly.Instance(new WebAssembly.Module(item)); "accepted" } catch (e) { e.name + ": " + e.message }', bytes);
    expect(await attempt(wasmModule({ memory: { min: 1 } }))).toMatch(/CompileError: .*every memory must declare a maximum/);
    expect(await attempt(wasmModule({ memory: { min: 1, max: 2, flags: 3 } }))).toMatch(/CompileError: .*shared and 64-bit/);
    expect(await attempt(wasmModule({ memory: { min: 1, max: 2, flags: 4 } }))).toMatch(/CompileError: .*shared and 64-bit/);
    expect(await attempt(wasmModule({ memory: { min: 1, max: 2 }, table: { min: 1 } }))).toMatch(/CompileError: .*every table must declare a maximum/);
    expect(await attempt(wasmModule({ memory: { min: 1, max: 2 }, table: { min: 1, max: WASM_LIMITS.maxTableElements + 1 } }))).toMatch(/table maximum .* out of range/);
    expect(await run('try { new WebAssembly.Memory({ initial: 1 }); "accepted" } catch (e) { e.message }')).toMatch(/a maximum is required/);
    expect(await run('try { new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true }); "accepted" } catch (e) { e.message }')).toMatch(/shared memories are not available/);
    expect(await run('try { new WebAssembly.Table({ element: "anyfunc", initial: 1 }); "accepted" } catch (e) { e.message }')).toMatch(/a maximum is required/);
    expect(await run('typeof SharedArrayBuffer')).toBe('undefined');
  });

  it('a maximum over the budget is refused; instances of one module are reserved each: N fit, N+1 is refused', async () => {
    const pages = BUDGET / PAGE;
    let run = await sandbox();
    const instantiate = 'try { new WebAssembly.Instance(new WebAssembly.Module(item)); "ok" } catch (e) { e.name + ": " + e.message }';
    expect(await run(instantiate, wasmModule({ memory: { min: 1, max: pages + 1 } }))).toMatch(/RangeError: WebAssembly: an instance with 1 memory .* budget has/);
    // 32 pages (2 MiB) each; the module's compile reserves 2 × its size too.
    const bytes = wasmModule({ memory: { min: 1, max: 32 } });
    const n = Math.floor((BUDGET - WASM_LIMITS.codeBytesPerModuleByte * bytes.length) / (32 * PAGE));
    run = await sandbox();
    const outcome = await run(
      `var m = new WebAssembly.Module(item); var ok = 0, error = '';
       for (var k = 0; k < ${n + 1}; k++) { try { new WebAssembly.Instance(m).exports.f(); ok++; } catch (e) { error = e.message; break; } }
       [ok, error]`,
      bytes,
    );
    expect(outcome).toEqual([n, expect.stringMatching(/budget has .* left \(it is part of memoryLimitMb\)/)]);
    expect(n).toBe(15);
  });

  it('new WebAssembly.Memory is reserved from the same budget; grow stops at the maximum', async () => {
    const run = await sandbox();
    const each = 100; // pages: 6.25 MiB
    const n = Math.floor(BUDGET / (each * PAGE));
    expect(await run(`var made = []; var error = ''; for (var k = 0; k <= ${n}; k++) { try { made.push(new WebAssembly.Memory({ initial: 1, maximum: ${each} })); } catch (e) { error = e.message; break; } } [made.length, error]`)).toEqual([
      n,
      expect.stringMatching(/budget has/),
    ]);
    expect(await run(`var mem = made[0]; var r = [mem.grow(${each - 1}), mem.buffer.byteLength]; try { mem.grow(1); r.push('grew'); } catch (e) { r.push(e.name); } r`)).toEqual([1, each * PAGE, 'RangeError']);
    const run2 = await sandbox();
    // memory.grow inside the module stops at the declared maximum too.
    expect(await run2('var i = new WebAssembly.Instance(new WebAssembly.Module(item)); [i.exports.grow(1), i.exports.grow(1), i.exports.memory.buffer.byteLength]', wasmModule({ memory: { min: 1, max: 2 } }))).toEqual([1, -1, 2 * PAGE]);
    // An imported memory must be a Memory (all of which were reserved when created).
    expect(
      await run2('var mm = new WebAssembly.Memory({ initial: 1, maximum: 2 }); var j = new WebAssembly.Instance(new WebAssembly.Module(item), { env: { m: mm } }); [j.exports.f(), j.exports.grow(1), j.exports.grow(1)]', wasmModule({ importMemory: { min: 1, max: 2 } })),
    ).toEqual([42, 1, -1]);
    expect(await run2('try { new WebAssembly.Instance(new WebAssembly.Module(item), { env: { m: new ArrayBuffer(65536) } }); "accepted" } catch (e) { e.name }', wasmModule({ importMemory: { min: 1, max: 2 } }))).toBe('LinkError');
  });

  it('the original constructors cannot be reached: .constructor, prototypes, stack frames, caller', async () => {
    const run = await sandbox();
    const reached = await run(
      `var W = WebAssembly;
       var mem = new W.Memory({ initial: 1, maximum: 1 });
       var inst = new W.Instance(new W.Module(item));
       var tbl = new W.Table({ element: 'anyfunc', initial: 1, maximum: 1 });
       var wrappers = [W.Module, W.Instance, W.Memory, W.Table];
       var protos = [W.Module.prototype, W.Instance.prototype, W.Memory.prototype, W.Table.prototype];
       var found = [];
       // every function whose prototype is a WebAssembly prototype must be one of the wrappers
       function check(f, where) {
         if (typeof f === 'function' && protos.indexOf(f.prototype) >= 0 && wrappers.indexOf(f) < 0) found.push(where);
       }
       check(mem.constructor, 'memory.constructor');
       check(inst.exports.memory.constructor, 'exports.memory.constructor');
       check(Object.getPrototypeOf(inst).constructor, 'instance proto');
       check(Object.getPrototypeOf(tbl).constructor, 'table proto');
       check(Object.getPrototypeOf(new W.Module(item)).constructor, 'module proto');
       try { W.Memory.prototype.constructor = function () {}; } catch (e) {}
       try { Object.defineProperty(W.Memory.prototype, 'constructor', { value: 1 }); } catch (e) {}
       check(mem.constructor, 'after redefining');
       // stack frames and .caller while V8's own constructors read user getters
       var seen = [];
       Error.prepareStackTrace = function (e, frames) { frames.forEach(function (f) { seen.push(f.getFunction()); }); return ''; };
       function sloppy() { seen.push(sloppy.caller); seen.push(arguments.callee.caller); new Error().stack; return 1; }
       new W.Memory({ get initial() { return sloppy(); }, maximum: 1 });
       new W.Instance(new W.Module(item), { get env() { sloppy(); return {}; } });
       try { new W.Instance(new W.Module(item), { env: { get m() { sloppy(); return mem; } } }); } catch (e) {}
       new W.Table({ element: 'anyfunc', get initial() { return sloppy(); }, maximum: 1 });
       Error.prepareStackTrace = undefined;
       seen.forEach(function (f, k) { check(f, 'frame ' + k); if (f === undefined || f === null || f === sloppy) return; if (typeof f === 'function' && f.name && /Module|Instance|Memory|Table|compile|instantiate/.test(f.name) && wrappers.indexOf(f) < 0) found.push('frame fn ' + f.name); });
       // the constructor reached through a prototype is the wrapper: still bounded
       var viaProto = '';
       try { new (Object.getPrototypeOf(mem).constructor)({ initial: 1 }); } catch (e) { viaProto = e.message; }
       [found, viaProto, mem.constructor === W.Memory, seen.length > 4]`,
      wasmModule({ memory: { min: 1, max: 1 } }),
    );
    expect(reached).toEqual([[], expect.stringMatching(/a maximum is required/), true, true]);
  });

  it('the bytes are copied once before they are read: changing them after the call (or from getters) changes nothing', async () => {
    const run = await sandbox();
    const bytes = wasmModule({ memory: { min: 1, max: 1 } });
    const at = memoryMaxOffset(bytes);
    const result = await settle(
      run,
      `var bytes = item;
       var clean = new Uint8Array(bytes);
       var pending = WebAssembly.compile(bytes);
       bytes[${at}] = 0x7f; // after the call: maximum 1 -> 127 pages
       var m = await pending;
       var i = new WebAssembly.Instance(m);
       // getters on the view and its prototype never run (internal slots are read)
       var ran = false;
       var u = clean;
       ['buffer', 'byteOffset', 'byteLength', 'length'].forEach(function (k) { Object.defineProperty(u, k, { get: function () { ran = true; u[${at}] = 0x7f; return 0; } }); });
       Uint8Array.prototype.set = function () { ran = true; };
       var i2 = new WebAssembly.Instance(new WebAssembly.Module(u));
       return [i.exports.grow(1), i.exports.memory.buffer.byteLength, i2.exports.grow(1), ran];`,
      bytes,
    );
    expect(result).toEqual({ v: [-1, PAGE, -1, false] });
  });

  it('modules over the size bound are refused; a runaway loop in WebAssembly is stopped by the clock', async () => {
    const run = await sandbox();
    expect(await run(`try { new WebAssembly.Module(new Uint8Array(${WASM_LIMITS.maxModuleBytes + 1})); 'accepted' } catch (e) { e.message }`)).toMatch(/larger than 8388608 bytes/);
    const s = await pool.createSandbox({ timeoutMs: 150, capabilities: ['wasm'] });
    open.push(s);
    await s.load('var __rmModule = { process: function (b) { return new WebAssembly.Instance(new WebAssembly.Module(b)).exports.f(); } };');
    const start = performance.now();
    await expect(s.process(wasmModule({ loop: true }))).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(performance.now() - start).toBeLessThan(150 + 250);
  });

  it('the heap gets the rest of memoryLimitMb; the isolate is never pooled', async () => {
    const base = liveIsolates();
    const run = await sandbox();
    expect(liveIsolates()).toBe(base + 1);
    // 40 MB fits a 64 MB heap, not the 32 MB heap of a sandbox granted 'wasm' (the other 32 MB are its budget).
    await expect(run('new Uint8Array(40 * 1048576).length')).rejects.toThrow(/Array buffer allocation failed|memory limit/);
    const plain = await sandbox([]);
    expect(await plain('new Uint8Array(40 * 1048576).length')).toBe(40 * MIB);
    for (const s of open.splice(0)) await s.dispose();
    expect(liveIsolates()).toBe(base);
  });

  it('RSS stays bounded: 100 instantiations of 1 GiB-maximum memories (and 100 such Memory objects) in a 64 MB sandbox are all refused', async () => {
    const run = await sandbox();
    globalThis.gc?.();
    const rss0 = process.memoryUsage().rss;
    const counts = await run(
      `var m = new WebAssembly.Module(item); var refused = 0;
       for (var k = 0; k < 100; k++) { try { new WebAssembly.Instance(m).exports.grow(16383); } catch (e) { refused++; } }
       for (var k = 0; k < 100; k++) { try { new WebAssembly.Memory({ initial: 16384, maximum: 16384 }); } catch (e) { refused++; } }
       refused`,
      wasmModule({ memory: { min: 1, max: 16384 } }),
    );
    expect(counts).toBe(200);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(50 * MIB);
  });
});
