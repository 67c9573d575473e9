/**
 * One sandbox: a fresh isolated-vm context (in a pooled isolate) holding the bridge and one piece of user code.
 * User code sees only the JavaScript built-ins: no `process`, `require`, `import`, fs, network or timers, unless a
 * capability (today: `'console'`) is granted. Values cross by structured copy.
 *
 * A call that runs longer than `timeoutMs` or an isolate that reaches `memoryLimitMb` fails with
 * {@link SandboxLimitError}; the sandbox is then broken and its isolate is disposed rather than pooled.
 *
 * @module
 */
import type ivm from 'isolated-vm';
import { RemoteMediaError, SandboxLimitError } from '../errors.js';
import { BRIDGE_GLOBAL, BRIDGE_SOURCE } from './bridgeSource.js';

/** Capabilities user code may be granted. `'console'`: `console.log/info/warn/error` forwarded to the host's sink. */
export type SandboxCapability = 'console';

/** Options of one sandbox. */
export interface SandboxOptions {
  /** Longest one call may run, ms (CPU work and microtasks included). Default: 1000. */
  readonly timeoutMs?: number;
  /** Capabilities granted to the code. Default: none. */
  readonly capabilities?: readonly SandboxCapability[];
  /** Where granted `console` output goes. Default: `console.error` with a `[sandbox]` prefix. */
  readonly consoleSink?: (level: string, args: unknown[]) => void;
  /** Name used in error messages (e.g. `Counter` or `core.codeNode`). Default: `'sandbox'`. */
  readonly label?: string;
}

/** Where a sandbox's isolate comes from and goes back to (the isolate pool). */
export interface IsolateOwner {
  readonly memoryLimitMb: number;
  giveBack(isolate: ivm.Isolate, healthy: boolean): void;
}

/** Defaults of {@link SandboxOptions}. */
export const DEFAULT_SANDBOX_TIMEOUT_MS = 1000;

/** Result of a remote-style call: a value, or the id of an iterator kept inside the sandbox. */
export type SandboxResult = { readonly value: unknown } | { readonly iterator: number };

type Bridge = Record<'create' | 'call' | 'get' | 'next' | 'return' | 'closeIterators' | 'process' | 'flush' | 'hasProcess', ivm.Reference>;

const COPY = { arguments: { copy: true }, result: { copy: true, promise: true } } as const;
const COPY_SYNC = { arguments: { copy: true }, result: { copy: true } } as const;

export class Sandbox {
  private broken = false;
  private disposed = false;
  private readonly timeoutMs: number;
  private readonly label: string;

  /** @internal Use `IsolatePool.createSandbox()`. */
  constructor(
    private readonly pool: IsolateOwner,
    private readonly isolate: ivm.Isolate,
    private readonly context: ivm.Context,
    private readonly bridge: Bridge,
    options: SandboxOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_SANDBOX_TIMEOUT_MS;
    this.label = options.label ?? 'sandbox';
  }

  /** @internal Installs the bridge (and granted capabilities) before any user code runs. */
  static async install(pool: IsolateOwner, isolate: ivm.Isolate, ivmModule: typeof ivm, options: SandboxOptions): Promise<Sandbox> {
    const context = await isolate.createContext();
    return Sandbox.finishInstall(pool, isolate, context, ivmModule, options, false) as Promise<Sandbox>;
  }

  /** @internal Synchronous variant for nodes (their cores are synchronous). */
  static installSync(pool: IsolateOwner, isolate: ivm.Isolate, ivmModule: typeof ivm, options: SandboxOptions): Sandbox {
    const context = isolate.createContextSync();
    return Sandbox.finishInstall(pool, isolate, context, ivmModule, options, true) as Sandbox;
  }

  private static finishInstall(
    pool: IsolateOwner,
    isolate: ivm.Isolate,
    context: ivm.Context,
    ivmModule: typeof ivm,
    options: SandboxOptions,
    sync: boolean,
  ): Sandbox | Promise<Sandbox> {
    const jail = context.global;
    // V8 gives every context a `console` whose output goes nowhere; it exists only when granted.
    context.evalSync('delete globalThis.console');
    if (options.capabilities?.includes('console')) {
      const sink = options.consoleSink ?? ((level: string, args: unknown[]) => console.error(`[sandbox ${level}]`, ...args));
      const log = new ivmModule.Callback((level: string, ...args: unknown[]) => sink(level, args));
      jail.setSync('__rmLog', log);
      context.evalSync(`globalThis.console = Object.freeze({ log: (...a) => __rmLog('log', ...a), info: (...a) => __rmLog('info', ...a),
        warn: (...a) => __rmLog('warn', ...a), error: (...a) => __rmLog('error', ...a) }); delete globalThis.__rmLog;`);
    }
    context.evalSync(BRIDGE_SOURCE);
    // References are taken now, before user code runs, so that code cannot swap the bridge under the host.
    const names = ['create', 'call', 'get', 'next', 'return', 'closeIterators', 'process', 'flush', 'hasProcess'] as const;
    const bridge = Object.fromEntries(names.map((n) => [n, context.evalSync(`${BRIDGE_GLOBAL}.${n}`, { reference: true })])) as Bridge;
    const sandbox = new Sandbox(pool, isolate, context, bridge, options);
    return sync ? sandbox : Promise.resolve(sandbox);
  }

  /** True once a limit was hit or the sandbox was disposed; every later call fails. */
  get usable(): boolean {
    return !this.broken && !this.disposed && !this.isolate.isDisposed;
  }

  /** Runs packaged code (an esbuild IIFE assigning `__rmModule`) in this sandbox. */
  async load(code: string, filename = 'shipped.js'): Promise<void> {
    await this.guard(async () => {
      const script = await this.isolate.compileScript(code, { filename: `file:///${filename}` });
      await script.run(this.context, { timeout: this.timeoutMs });
      script.release();
    });
  }

  /** Synchronous {@link load}. */
  loadSync(code: string, filename = 'shipped.js'): void {
    this.guardSync(() => {
      const script = this.isolate.compileScriptSync(code, { filename: `file:///${filename}` });
      script.runSync(this.context, { timeout: this.timeoutMs });
      script.release();
    });
  }

  /** Instantiates the exported class (`exportName`, or the default export) with `args`, or restores `state`. */
  async create(exportName: string, args: readonly unknown[], state?: Record<string, unknown>): Promise<void> {
    await this.guard(() => this.bridge.create.apply(undefined, [exportName, [...args], state], { ...COPY, timeout: this.timeoutMs }));
  }

  /** Calls a method of the instance; an iterator result stays inside and is returned as its id. */
  call(name: string, args: readonly unknown[]): Promise<SandboxResult> {
    return this.guard(() => this.bridge.call.apply(undefined, [name, [...args]], { ...COPY, timeout: this.timeoutMs }) as Promise<SandboxResult>);
  }

  /** Reads a property of the instance (awaiting it when it is a promise). */
  get(name: string): Promise<SandboxResult> {
    return this.guard(() => this.bridge.get.apply(undefined, [name], { ...COPY, timeout: this.timeoutMs }) as Promise<SandboxResult>);
  }

  /** Pulls up to `n` items from an iterator; `done` once it finished (it is then forgotten). */
  next(iterator: number, n: number): Promise<{ items: unknown[]; done: boolean }> {
    return this.guard(() => this.bridge.next.apply(undefined, [iterator, n], { ...COPY, timeout: this.timeoutMs }) as Promise<{ items: unknown[]; done: boolean }>);
  }

  /** Closes an iterator early (its `finally` runs). */
  async return(iterator: number): Promise<void> {
    await this.guard(() => this.bridge.return.apply(undefined, [iterator], { ...COPY, timeout: this.timeoutMs }));
  }

  /** `process(item)` of a packaged node module, synchronously (nodes have synchronous cores). */
  processSync(item: unknown): unknown {
    return this.guardSync(() => this.bridge.process.applySync(undefined, [item], { ...COPY_SYNC, timeout: this.timeoutMs }));
  }

  /** `flush()` of a packaged node module, synchronously; `undefined` when it has none. */
  flushSync(): unknown {
    return this.guardSync(() => this.bridge.flush.applySync(undefined, [], { ...COPY_SYNC, timeout: this.timeoutMs }));
  }

  /** True when the loaded module exports a `process` function. */
  hasProcessSync(): boolean {
    return this.guardSync(() => this.bridge.hasProcess.applySync(undefined, [], { result: { copy: true }, timeout: this.timeoutMs }) as boolean);
  }

  /**
   * Closes open iterators (their `finally` blocks run, best effort) and gives the isolate back to the pool, or
   * disposes it when a limit was hit. Idempotent.
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    if (this.usable) {
      try {
        await this.bridge.closeIterators.apply(undefined, [], { result: { promise: true }, timeout: this.timeoutMs });
      } catch {
        this.broken = true;
      }
    }
    this.disposeSync();
  }

  /** Gives the isolate back at once (no iterator `finally` runs). Idempotent. */
  disposeSync(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const ref of Object.values(this.bridge)) ref.release();
    if (!this.isolate.isDisposed) this.context.release();
    this.pool.giveBack(this.isolate, !this.broken);
  }

  private async guard<T>(run: () => Promise<T>): Promise<T> {
    this.checkUsable();
    try {
      return await run();
    } catch (e) {
      throw this.translate(e);
    }
  }

  private guardSync<T>(run: () => T): T {
    this.checkUsable();
    try {
      return run();
    } catch (e) {
      throw this.translate(e);
    }
  }

  private checkUsable(): void {
    if (this.disposed) throw new RemoteMediaError('CANCELLED', `${this.label}: the sandbox was disposed`, { node: this.label });
    if (!this.usable) throw new SandboxLimitError('RESOURCE_EXHAUSTED', `${this.label}: the sandbox was disposed after hitting a limit`, { node: this.label });
  }

  /** Limit breaches become SandboxLimitError (and break the sandbox); user errors keep their message and stack. */
  private translate(e: unknown): RemoteMediaError {
    const error = e instanceof Error ? e : new Error(String(e));
    const limit = this.limitError(error);
    if (limit !== undefined) {
      // A runaway isolate is not reused, and is freed now rather than when its owner gets round to disposing.
      this.broken = true;
      if (!this.isolate.isDisposed) this.isolate.dispose();
      return limit;
    }
    const name = error.name !== '' && error.name !== 'Error' ? `${error.name}: ` : '';
    return new RemoteMediaError('NODE_FAILED', `${this.label}: ${name}${error.message}`, { node: this.label, cause: e, remoteStack: error.stack });
  }

  private limitError(error: Error): SandboxLimitError | undefined {
    if (this.isolate.isDisposed) {
      return new SandboxLimitError('RESOURCE_EXHAUSTED', `${this.label}: sandbox exceeded its memory limit (${this.pool.memoryLimitMb} MB); the isolate was disposed`, {
        node: this.label,
        cause: error,
      });
    }
    if (/Script execution timed out/i.test(error.message)) {
      return new SandboxLimitError('DEADLINE_EXCEEDED', `${this.label}: call exceeded timeoutMs (${this.timeoutMs} ms); the isolate was disposed`, {
        node: this.label,
        cause: error,
      });
    }
    return undefined;
  }
}
