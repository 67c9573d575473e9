/**
 * Isolate pool: creating an isolate costs milliseconds, a context far less. Each {@link Sandbox} gets a fresh
 * context (its own globals and built-ins, so prototype pollution stays inside) in an isolate taken from the pool;
 * when the sandbox is disposed its context is released and a healthy isolate goes back, up to `maxIdle`.
 * An isolate that hit a limit (timeout, memory) is disposed, never pooled.
 *
 * isolated-vm is loaded on first use, so importing remotemedia does not load a native add-on nobody needs.
 *
 * @module
 */
import { createRequire } from 'node:module';
import type ivm from 'isolated-vm';
import { InvalidParamsError, RemoteMediaError } from '../errors.js';
import { Sandbox, type SandboxOptions } from './sandbox.js';

/** Defaults of {@link IsolatePoolOptions}. */
export const DEFAULT_ISOLATE_POOL = {
  /** Heap of one isolate, MB (isolated-vm's minimum is 8). Bounds what one piece of user code can allocate. */
  memoryLimitMb: 64,
  /** Idle isolates kept for reuse. */
  maxIdle: 4,
} as const;

/** Options of an {@link IsolatePool}. */
export interface IsolatePoolOptions {
  /** Heap limit of each isolate, MB, ≥ 8. Default: 64. */
  readonly memoryLimitMb?: number;
  /** Idle isolates kept for reuse. Default: 4. */
  readonly maxIdle?: number;
}

let ivmModule: typeof ivm | undefined;

/** Every isolate this process created and has not yet seen disposed (pruned when counted). */
const created = new Set<ivm.Isolate>();

/** isolated-vm isolates alive in this process (in use or pooled idle), over all pools. */
export function liveIsolates(): number {
  for (const isolate of created) if (isolate.isDisposed) created.delete(isolate);
  return created.size;
}

function loadIvm(): typeof ivm {
  if (ivmModule !== undefined) return ivmModule;
  try {
    ivmModule = createRequire(import.meta.url)('isolated-vm') as typeof ivm;
  } catch (e) {
    throw new RemoteMediaError('INTERNAL', `sandbox: cannot load isolated-vm (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  return ivmModule;
}

export class IsolatePool {
  readonly memoryLimitMb: number;
  private readonly maxIdle: number;
  private readonly idle: ivm.Isolate[] = [];
  private live = 0;
  private closed = false;

  constructor(options: IsolatePoolOptions = {}) {
    this.memoryLimitMb = options.memoryLimitMb ?? DEFAULT_ISOLATE_POOL.memoryLimitMb;
    this.maxIdle = options.maxIdle ?? DEFAULT_ISOLATE_POOL.maxIdle;
    if (!Number.isInteger(this.memoryLimitMb) || this.memoryLimitMb < 8) {
      throw new InvalidParamsError('sandbox', 'memoryLimitMb', `must be an integer ≥ 8 (MB), got ${this.memoryLimitMb}`);
    }
  }

  /** Isolates alive (in use or idle). */
  get isolates(): number {
    return this.live + this.idle.length;
  }

  /** A fresh sandbox (new context, bridge installed). */
  async createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
    const isolate = this.take();
    try {
      return await Sandbox.install(this, isolate, loadIvm(), options);
    } catch (e) {
      this.giveBack(isolate, false);
      throw e;
    }
  }

  /** Synchronous {@link createSandbox}, for node cores. */
  createSandboxSync(options: SandboxOptions = {}): Sandbox {
    const isolate = this.take();
    try {
      return Sandbox.installSync(this, isolate, loadIvm(), options);
    } catch (e) {
      this.giveBack(isolate, false);
      throw e;
    }
  }

  /** @internal Called by {@link Sandbox} when it is disposed. */
  giveBack(isolate: ivm.Isolate, healthy: boolean): void {
    this.live--;
    if (healthy && !this.closed && !isolate.isDisposed && this.idle.length < this.maxIdle) {
      this.idle.push(isolate);
      return;
    }
    if (!isolate.isDisposed) isolate.dispose();
  }

  /** Disposes idle isolates; sandboxes in use keep theirs until they are disposed. */
  close(): void {
    this.closed = true;
    for (const isolate of this.idle.splice(0)) isolate.dispose();
  }

  private take(): ivm.Isolate {
    if (this.closed) throw new RemoteMediaError('CANCELLED', 'sandbox: the isolate pool is closed');
    let isolate = this.idle.pop();
    while (isolate !== undefined && isolate.isDisposed) isolate = this.idle.pop();
    if (isolate === undefined) {
      isolate = new (loadIvm().Isolate)({ memoryLimit: this.memoryLimitMb });
      created.add(isolate);
    }
    this.live++;
    return isolate;
  }
}

const sharedPools = new Map<number, IsolatePool>();

/** The process-wide pool for a memory limit (used by `codeNode`). */
export function sharedIsolatePool(memoryLimitMb: number = DEFAULT_ISOLATE_POOL.memoryLimitMb): IsolatePool {
  let pool = sharedPools.get(memoryLimitMb);
  if (pool === undefined) {
    pool = new IsolatePool({ memoryLimitMb });
    sharedPools.set(memoryLimitMb, pool);
  }
  return pool;
}
