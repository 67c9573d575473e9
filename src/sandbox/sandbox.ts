/**
 * One sandbox: a fresh isolated-vm context (in a pooled isolate) holding the bridge and one piece of user code.
 * User code sees only the JavaScript built-ins (minus `WebAssembly`, `SharedArrayBuffer`, `Atomics` and resizable
 * `ArrayBuffer`s, which escape the memory limit): no `process`, `require`, `import`, fs, network or timers, unless a
 * capability is granted: `'console'`, or `'wasm'` (a `WebAssembly` whose memories and compiled code are reserved
 * from a budget that is part of the memory limit; see `policy.ts` and `bridgeSource.ts`).
 *
 * Every call is asynchronous: it runs on isolated-vm's own thread, so user code never holds the host's event loop.
 * Every call goes through the bridge (see `bridgeSource.ts`), which returns results and thrown values as inert data
 * made inside the isolate under the time limit; the host never copies a user object. Calls on one sandbox run one
 * at a time, in order. Two clocks stop a runaway call:
 * - isolated-vm's `timeout` (CPU work and the microtasks the call runs);
 * - the host's own deadline, `timeoutMs + HOST_DEADLINE_GRACE_MS` after the call started, for what isolated-vm's
 *   clock does not cover (a promise that never settles, anything still running after it stopped counting). When
 *   it fires the isolate is disposed, which ends whatever runs in it.
 * A call stopped by either fails with {@link SandboxLimitError} `DEADLINE_EXCEEDED`; an isolate over its memory
 * limit with `RESOURCE_EXHAUSTED`. The sandbox is then broken and its isolate disposed, never pooled.
 *
 * @module
 */
import type ivm from 'isolated-vm';
import { RemoteMediaError, SandboxLimitError } from '../errors.js';
import { BRIDGE_GLOBAL, BRIDGE_LIMITS, BRIDGE_SOURCE } from './bridgeSource.js';
import { wasmMemorySplit, type SandboxCapability } from './policy.js';

export type { SandboxCapability } from './policy.js';

/** Options of one sandbox. */
export interface SandboxOptions {
  /** Longest one call may run, ms (CPU work and microtasks included; a promise must settle within it). Default: 1000. */
  readonly timeoutMs?: number;
  /** Capabilities granted to the code (checked against the process caps by the caller). Default: none. */
  readonly capabilities?: readonly SandboxCapability[];
  /**
   * Where granted `console` output goes: one line per call, already bounded and escaped inside the isolate (ASCII, no
   * control characters; see `BRIDGE_LIMITS.maxConsole*`). Default: the host's stderr, prefixed `[sandbox <label> <level>] `.
   */
  readonly consoleSink?: (level: string, line: string) => void;
  /** Name used in error messages (e.g. `Counter` or `core.codeNode`). Default: `'sandbox'`. */
  readonly label?: string;
  /** @internal Slack of the host's backstop deadline over `timeoutMs`, ms (tests raise it to see isolated-vm's clock alone). Default: 25. */
  readonly hostDeadlineGraceMs?: number;
}

/** Where a sandbox's isolate comes from and goes back to (the isolate pool). */
export interface IsolateOwner {
  readonly memoryLimitMb: number;
  giveBack(isolate: ivm.Isolate, healthy: boolean): void;
}

/** Defaults of {@link SandboxOptions}. */
export const DEFAULT_SANDBOX_TIMEOUT_MS = 1000;

/**
 * Slack of the host's deadline over `timeoutMs`, ms. isolated-vm's own clock stops a busy call within ~2 ms of
 * `timeoutMs`; the host's deadline is the backstop for what that clock does not see, and must still stop the call
 * within the promised `timeoutMs + 50 ms`.
 */
export const HOST_DEADLINE_GRACE_MS = 25;

/** Longest the bridge install may take, ms (no user code runs yet; a guard against a wedged isolate). */
const INSTALL_TIMEOUT_MS = 1000;

/** Result of a remote-style call: a value, or the id of an iterator kept inside the sandbox. */
export type SandboxResult = { readonly value: unknown } | { readonly iterator: number };

const BRIDGE_NAMES = ['load', 'create', 'call', 'get', 'next', 'return', 'closeIterators', 'process', 'flush', 'hasProcess'] as const;
type BridgeName = (typeof BRIDGE_NAMES)[number];
type Bridge = Record<BridgeName, ivm.Reference>;

/** What every bridge function answers: a value, or a throw as data (see `bridgeSource.ts`). */
type Envelope = { ok: true; value: unknown } | { ok: false; error: { name: string; message: string; stack: string } };

const CALL_OPTIONS = { arguments: { copy: true }, result: { copy: true, promise: true } } as const;

/** A label or level as it may appear in a console prefix (a shipped object's label is client text). */
function safeLabel(label: string): string {
  return label.replace(/[^\w.-]/g, '_').slice(0, 64);
}

/** Defence in depth: the bridge already escaped them, but nothing that reaches the host's stderr may break a line. */
function stripControls(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
}

/** The host's deadline fired (the isolate is disposed by then). */
class HostDeadline extends Error {}

/**
 * One piece of user code in its own context. Created by `IsolatePool.createSandbox()`; every method is
 * asynchronous and bounded by `timeoutMs`; results come back as inert data; throws as `NODE_FAILED`; limits as
 * {@link SandboxLimitError}. Dispose it (`dispose()`, or `disposeNow()` when nothing may be awaited).
 */
export class Sandbox {
  private broken = false;
  private disposed = false;
  private deadlineHit = false;
  private inFlight = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timeoutMs: number;
  private readonly deadlineMs: number;
  private readonly label: string;
  private readonly wasmBudgetBytes: number;

  /** @internal Use `IsolatePool.createSandbox()`. */
  constructor(
    private readonly pool: IsolateOwner,
    private readonly isolate: ivm.Isolate,
    private readonly context: ivm.Context,
    private readonly bridge: Bridge,
    options: SandboxOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_SANDBOX_TIMEOUT_MS;
    this.deadlineMs = this.timeoutMs + (options.hostDeadlineGraceMs ?? HOST_DEADLINE_GRACE_MS);
    this.label = options.label ?? 'sandbox';
    this.wasmBudgetBytes = options.capabilities?.includes('wasm') === true ? wasmMemorySplit(pool.memoryLimitMb).wasmBudgetMb * 2 ** 20 : 0;
  }

  /** @internal Installs the bridge (and granted capabilities) before any user code runs. */
  static async install(pool: IsolateOwner, isolate: ivm.Isolate, ivmModule: typeof ivm, options: SandboxOptions): Promise<Sandbox> {
    const context = await isolate.createContext();
    try {
      if (options.capabilities?.includes('console')) {
        const prefix = `[sandbox ${safeLabel(options.label ?? 'sandbox')}`;
        const sink = options.consoleSink ?? ((level: string, line: string) => process.stderr.write(`${prefix} ${level}] ${line}\n`));
        // `ignored`: the isolate does not wait for the host's event loop. The bridge sends one bounded, escaped line per
        // call and at most BRIDGE_LIMITS.maxConsoleBytes per sandbox, so what queues here is bounded too.
        const log = new ivmModule.Callback(
          (level: unknown, line: unknown) => sink(safeLabel(String(level)), typeof line === 'string' ? stripControls(line.slice(0, BRIDGE_LIMITS.maxConsoleLineBytes + 256)) : ''),
          { ignored: true },
        );
        await context.global.set('__rmLog', log);
      }
      if (options.capabilities?.includes('wasm')) {
        // The bridge reads (and deletes) this before user code runs; the isolate's heap is the other part of the limit.
        await context.global.set('__rmWasm', wasmMemorySplit(pool.memoryLimitMb).wasmBudgetMb * 1024 * 1024);
      }
      await context.eval(BRIDGE_SOURCE, { timeout: INSTALL_TIMEOUT_MS });
      // References are taken now, before user code runs, and the global is deleted: user code can neither swap the
      // bridge under the host nor call it.
      const bridge = {} as Bridge;
      for (const name of BRIDGE_NAMES) bridge[name] = await context.eval(`${BRIDGE_GLOBAL}.${name}`, { reference: true, timeout: INSTALL_TIMEOUT_MS });
      await context.eval(`delete globalThis.${BRIDGE_GLOBAL}`, { timeout: INSTALL_TIMEOUT_MS });
      return new Sandbox(pool, isolate, context, bridge, options);
    } catch (e) {
      if (!isolate.isDisposed) context.release();
      throw e;
    }
  }

  /** True once a limit was hit or the sandbox was disposed; every later call fails. */
  get usable(): boolean {
    return !this.broken && !this.disposed && !this.isolate.isDisposed;
  }

  /** Runs packaged code (an esbuild IIFE assigning `__rmModule`) in this sandbox; a top-level throw is `NODE_FAILED`. */
  async load(code: string, filename = 'shipped.js'): Promise<void> {
    await this.run('load', [code, `file:///${filename}`]);
  }

  /** Instantiates the exported class (`exportName`, or the default export) with `args`, or restores `state`. */
  async create(exportName: string, args: readonly unknown[], state?: Record<string, unknown>): Promise<void> {
    await this.run('create', [exportName, [...args], state]);
  }

  /** Calls a method of the instance; an iterator result stays inside and is returned as its id. */
  call(name: string, args: readonly unknown[]): Promise<SandboxResult> {
    return this.run('call', [name, [...args]]) as Promise<SandboxResult>;
  }

  /** Reads a property of the instance (awaiting it when it is a promise). */
  get(name: string): Promise<SandboxResult> {
    return this.run('get', [name]) as Promise<SandboxResult>;
  }

  /** Pulls up to `n` items from an iterator; `done` once it finished (it is then forgotten). */
  next(iterator: number, n: number): Promise<{ items: unknown[]; done: boolean }> {
    return this.run('next', [iterator, n]) as Promise<{ items: unknown[]; done: boolean }>;
  }

  /** Closes an iterator early (its `finally` runs). */
  async return(iterator: number): Promise<void> {
    await this.run('return', [iterator]);
  }

  /** `process(item)` of a packaged node module (which must be synchronous inside the sandbox). */
  process(item: unknown): Promise<unknown> {
    return this.run('process', [item]);
  }

  /** `flush()` of a packaged node module; `undefined` when it has none. */
  flush(): Promise<unknown> {
    return this.run('flush', []);
  }

  /** True when the loaded module exports a `process` function (or a default function). */
  async hasProcess(): Promise<boolean> {
    return (await this.run('hasProcess', [])) === true;
  }

  /**
   * Closes open iterators (their `finally` blocks run, best effort, under the time limit) and gives the isolate
   * back to the pool, or disposes it when a limit was hit. Idempotent.
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    if (this.usable) {
      try {
        await this.run('closeIterators', []);
      } catch {
        this.broken = true;
      }
    }
    this.disposeNow();
  }

  /**
   * Gives the isolate back at once (no iterator `finally` runs); an isolate with a call still running is disposed
   * instead, so that call cannot delay the next sandbox that would get it. Idempotent.
   */
  disposeNow(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.inFlight > 0) this.broken = true;
    for (const ref of Object.values(this.bridge)) ref.release();
    if (!this.isolate.isDisposed) {
      if (this.broken) this.isolate.dispose();
      else this.context.release();
    }
    this.pool.giveBack(this.isolate, !this.broken);
  }

  /** Queues one bridge call behind the previous ones (each gets its whole time budget). */
  private run(name: BridgeName, args: unknown[]): Promise<unknown> {
    const task = this.queue.then(() => this.invoke(name, args));
    this.queue = task.catch(() => undefined);
    return task;
  }

  private async invoke(name: BridgeName, args: unknown[]): Promise<unknown> {
    this.checkUsable();
    this.inFlight++;
    let timer: NodeJS.Timeout | undefined;
    const call = this.bridge[name].apply(undefined, args, { ...CALL_OPTIONS, timeout: this.timeoutMs }) as Promise<Envelope>;
    // The losing side of the race still settles (usually "isolate was disposed"); nobody waits for it.
    call.catch(() => undefined);
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.deadlineHit = true;
        if (!this.isolate.isDisposed) this.isolate.dispose();
        reject(new HostDeadline(`no answer within ${this.deadlineMs} ms`));
      }, this.deadlineMs);
    });
    let envelope: Envelope;
    try {
      envelope = await Promise.race([call, deadline]);
    } catch (e) {
      throw this.translate(e);
    } finally {
      clearTimeout(timer);
      this.inFlight--;
    }
    // isolated-vm delivers completed calls in the poll phase; a caller that starts the next call at once (a codeNode
    // working through its queue, a proxy client pipelining) would chain call after call in that phase and starve
    // timers and other clients' I/O (measured: 100+ ms with 1 MB results). One event-loop turn per call keeps the
    // executor answering.
    await new Promise<void>((resolve) => setImmediate(resolve));
    // isolated-vm checks the memory limit only when V8 collects garbage: a flattened string or a buffer allocated in one
    // piece can hold ~2× the limit until then, and be kept across calls. Checked after every call (~µs, see bench).
    this.checkMemory();
    if (envelope.ok) return envelope.value;
    const { name: errorName, message, stack } = envelope.error;
    const prefix = errorName !== '' && errorName !== 'Error' ? `${errorName}: ` : '';
    return Promise.reject(new RemoteMediaError('NODE_FAILED', `${this.label}: ${prefix}${message}`, { node: this.label, remoteStack: stack || undefined }));
  }

  /**
   * Disposes the isolate when its heap (used bytes, garbage not yet collected included, plus external memory such as
   * array buffers) is over its limit, the way isolated-vm's own check after a GC counts it: against V8's
   * `heap_size_limit` (the memory limit plus the young generation), plus the WebAssembly budget of a `'wasm'` sandbox.
   */
  private checkMemory(): void {
    if (this.isolate.isDisposed) return;
    let used: number;
    let limit: number;
    try {
      const heap = this.isolate.getHeapStatisticsSync();
      used = heap.used_heap_size + heap.externally_allocated_size;
      limit = heap.heap_size_limit + this.wasmBudgetBytes;
    } catch {
      return;
    }
    if (used <= limit) return;
    this.broken = true;
    this.isolate.dispose();
    throw new SandboxLimitError(
      'RESOURCE_EXHAUSTED',
      `${this.label}: sandbox exceeded its memory limit (${this.pool.memoryLimitMb} MB; ${Math.round(used / 2 ** 20)} MB in use after the call); the isolate was disposed`,
      { node: this.label },
    );
  }

  private checkUsable(): void {
    if (this.disposed) throw new RemoteMediaError('CANCELLED', `${this.label}: the sandbox was disposed`, { node: this.label });
    if (!this.usable) throw new SandboxLimitError('RESOURCE_EXHAUSTED', `${this.label}: the sandbox was disposed after hitting a limit`, { node: this.label });
  }

  /**
   * A failed isolated-vm call (never a user value: those come back as data). Limit breaches become
   * SandboxLimitError and break the sandbox; anything else (e.g. an argument that cannot be copied in) is NODE_FAILED.
   */
  private translate(e: unknown): RemoteMediaError {
    const error = e instanceof Error ? e : new Error(String(e));
    const limit = this.limitError(error);
    if (limit !== undefined) {
      // A runaway isolate is not reused, and is freed now rather than when its owner gets round to disposing.
      this.broken = true;
      if (!this.isolate.isDisposed) this.isolate.dispose();
      return limit;
    }
    if (this.disposed) return new RemoteMediaError('CANCELLED', `${this.label}: the sandbox was disposed during the call`, { node: this.label, cause: e });
    return new RemoteMediaError('NODE_FAILED', `${this.label}: ${error.message}`, { node: this.label, cause: e });
  }

  private limitError(error: Error): SandboxLimitError | undefined {
    if (error instanceof HostDeadline || this.deadlineHit || /Script execution timed out/i.test(error.message)) {
      return new SandboxLimitError('DEADLINE_EXCEEDED', `${this.label}: call exceeded timeoutMs (${this.timeoutMs} ms); the isolate was disposed`, {
        node: this.label,
        cause: error,
      });
    }
    if (this.isolate.isDisposed && !this.disposed) {
      return new SandboxLimitError('RESOURCE_EXHAUSTED', `${this.label}: sandbox exceeded its memory limit (${this.pool.memoryLimitMb} MB); the isolate was disposed`, {
        node: this.label,
        cause: error,
      });
    }
    return undefined;
  }
}
