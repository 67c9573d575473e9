/**
 * Isolate pools: creating an isolate costs milliseconds, a context far less. Each {@link Sandbox} gets a fresh
 * context (its own globals and built-ins, so prototype pollution stays inside) in an isolate taken from a pool;
 * when the sandbox is disposed its context is released and a healthy, small isolate goes back for reuse.
 *
 * Bounds, process-wide (over all pools), each against a threat:
 * - `maxIsolates` ({@link sandboxCaps}): isolates alive, in use or idle. Each can hold its memory limit, so this
 *   bounds sandbox memory and threads; one more gets `SandboxLimitError` `RESOURCE_EXHAUSTED` naming the limit
 *   (idle isolates are evicted first).
 * - `maxIsolatesPerClient` ({@link sandboxCaps}): sandboxes in use at once on behalf of one owner (a client, see
 *   `withSandboxOwner` in `policy.ts`), so one client cannot take every isolate; counted from the request (before the isolate
 *   exists) until the sandbox is disposed; one more gets `SandboxLimitError` `RESOURCE_EXHAUSTED` naming the limit.
 * - {@link MAX_IDLE_ISOLATES}: idle isolates kept, all pools together (oldest evicted), so pools for many distinct
 *   memory limits cannot each keep their own.
 * - {@link POOLED_HEAP_MAX_BYTES}: an isolate whose heap (garbage included) is larger when it comes back is
 *   disposed, not pooled, so a finished stream's garbage does not outlive it.
 * An isolate that hit a limit (timeout, memory) is disposed, never pooled.
 *
 * A sandbox granted `'wasm'` gets an isolate of its own, never pooled: its heap limit is the pool's
 * `memoryLimitMb` minus its WebAssembly budget ({@link wasmMemorySplit}), and it is disposed with the sandbox, so
 * WebAssembly memories (which live outside the heap and are freed only by GC) never outlive their budget.
 *
 * isolated-vm is loaded on first use, so importing remotemedia does not load a native add-on nobody needs.
 *
 * @module
 */
import { createRequire } from 'node:module';
import type ivm from 'isolated-vm';
import { InvalidParamsError, RemoteMediaError, SandboxLimitError } from '../errors.js';
import { KeyedCounts } from '../internal/keyedCounts.js';
import { sandboxCaps, sandboxOwner, wasmMemorySplit } from './policy.js';
import { Sandbox, type SandboxOptions } from './sandbox.js';

/** Defaults of {@link IsolatePoolOptions}. */
export const DEFAULT_ISOLATE_POOL = {
  /** Heap of one isolate, MB (isolated-vm's minimum is 8). Bounds what one piece of user code can allocate. */
  memoryLimitMb: 64,
  /** Idle isolates one pool may keep for reuse (all pools together keep at most {@link MAX_IDLE_ISOLATES}). */
  maxIdle: 4,
} as const;

/** Idle isolates kept over all pools; bounds memory held by isolates nobody uses. */
export const MAX_IDLE_ISOLATES = 4;

/**
 * Largest heap (used bytes, garbage included, plus external array buffers) of an isolate that goes back to the
 * pool; a bigger one is disposed. A fresh isolate with one context uses about 1 MB.
 */
export const POOLED_HEAP_MAX_BYTES = 8 * 1024 * 1024;

/** Options of an {@link IsolatePool}. */
export interface IsolatePoolOptions {
  /** Heap limit of each isolate, MB, ≥ 8. Default: 64. */
  readonly memoryLimitMb?: number;
  /** Idle isolates this pool may keep. Default: 4 (and at most {@link MAX_IDLE_ISOLATES} over all pools). */
  readonly maxIdle?: number;
}

let ivmModule: typeof ivm | undefined;

/** Every isolate this process created and has not yet seen disposed (pruned when counted). */
const created = new Set<ivm.Isolate>();

interface IdleIsolate {
  readonly isolate: ivm.Isolate;
  readonly pool: IsolatePool;
}

/** Isolates of sandboxes granted 'wasm': smaller heap, never pooled. */
const wasmIsolates = new WeakSet<ivm.Isolate>();

/** Idle isolates of every pool, oldest first. */
const idle: IdleIsolate[] = [];

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

/** Sandboxes in use (requested and not yet disposed) per owner. */
const ownerCounts = new KeyedCounts<string>();

/** The owner each isolate in use was requested for. */
const isolateOwners = new Map<ivm.Isolate, string>();

/** Isolates in use on behalf of `owner` right now (requested and not yet given back). */
export function isolatesInUseBy(owner: string): number {
  return ownerCounts.get(owner);
}

function releaseOwner(owner: string | undefined): void {
  if (owner !== undefined) ownerCounts.decrement(owner);
}

/** Counts one more sandbox for `owner`, or refuses it over `maxIsolatesPerClient`. */
function reserveOwner(owner: string | undefined): void {
  if (owner === undefined) return;
  const { maxIsolatesPerClient } = sandboxCaps();
  if (ownerCounts.get(owner) >= maxIsolatesPerClient) {
    throw new SandboxLimitError(
      'RESOURCE_EXHAUSTED',
      `sandbox: maxIsolatesPerClient (${maxIsolatesPerClient}) isolates are in use by this client; release an object or end a stream first`,
      { node: 'sandbox' },
    );
  }
  ownerCounts.increment(owner);
}

let lastTurn: Promise<void> = Promise.resolve();

/**
 * Waits for this sandbox's turn to take an isolate: one per event-loop turn. Creating an isolate is synchronous
 * (5–15 ms measured on a loaded 2-core machine); a burst of streams opening at once would otherwise hold the event
 * loop for all of them in a row, and other clients would wait.
 */
function creationTurn(): Promise<void> {
  const turn = lastTurn.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
  lastTurn = turn;
  return turn;
}

function evictIdle(index: number): void {
  const [entry] = idle.splice(index, 1);
  if (entry !== undefined && !entry.isolate.isDisposed) entry.isolate.dispose();
}

function heapBytes(isolate: ivm.Isolate): number {
  try {
    const heap = isolate.getHeapStatisticsSync();
    return heap.used_heap_size + heap.externally_allocated_size;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * A pool of isolates with one memory limit. Sandboxes take an isolate (reusing an idle one of the same limit, or
 * creating one within `maxIsolates`) and give it back when disposed. `close()` disposes its idle isolates.
 */
export class IsolatePool {
  readonly memoryLimitMb: number;
  private readonly maxIdle: number;
  private live = 0;
  private closed = false;

  constructor(options: IsolatePoolOptions = {}) {
    this.memoryLimitMb = options.memoryLimitMb ?? DEFAULT_ISOLATE_POOL.memoryLimitMb;
    this.maxIdle = options.maxIdle ?? DEFAULT_ISOLATE_POOL.maxIdle;
    if (!Number.isInteger(this.memoryLimitMb) || this.memoryLimitMb < 8) {
      throw new InvalidParamsError('sandbox', 'memoryLimitMb', `must be an integer ≥ 8 (MB), got ${this.memoryLimitMb}`);
    }
  }

  /** Isolates of this pool alive (in use or idle). */
  get isolates(): number {
    return this.live + this.idleCount();
  }

  /** A fresh sandbox (new context, bridge installed). */
  async createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
    const wasm = options.capabilities?.includes('wasm') === true;
    // Checked before anything is created: a pool too small for the split refuses 'wasm' with INVALID_PARAMS.
    const heapMb = wasm ? wasmMemorySplit(this.memoryLimitMb).heapMb : this.memoryLimitMb;
    // The owner is read now, synchronously, before the first await: the caller's withSandboxOwner() has returned by
    // the time the isolate is made.
    const owner = sandboxOwner();
    reserveOwner(owner);
    let isolate: ivm.Isolate;
    try {
      await creationTurn();
      isolate = this.take(wasm ? heapMb : undefined);
    } catch (e) {
      releaseOwner(owner);
      throw e;
    }
    if (owner !== undefined) isolateOwners.set(isolate, owner);
    try {
      return await Sandbox.install(this, isolate, loadIvm(), options);
    } catch (e) {
      this.giveBack(isolate, false);
      throw e;
    }
  }

  /** @internal Called by {@link Sandbox} when it is disposed. */
  giveBack(isolate: ivm.Isolate, healthy: boolean): void {
    this.live--;
    if (isolateOwners.has(isolate)) {
      releaseOwner(isolateOwners.get(isolate));
      isolateOwners.delete(isolate);
    }
    if (healthy && !this.closed && !wasmIsolates.has(isolate) && !isolate.isDisposed && this.maxIdle > 0 && heapBytes(isolate) <= POOLED_HEAP_MAX_BYTES) {
      if (this.idleCount() >= this.maxIdle) evictIdle(idle.findIndex((e) => e.pool === this));
      if (idle.length >= MAX_IDLE_ISOLATES) evictIdle(0);
      idle.push({ isolate, pool: this });
      return;
    }
    if (!isolate.isDisposed) isolate.dispose();
  }

  /** Disposes this pool's idle isolates; sandboxes in use keep theirs until they are disposed. */
  close(): void {
    this.closed = true;
    for (let i = idle.length - 1; i >= 0; i--) if (idle[i]!.pool === this) evictIdle(i);
  }

  private idleCount(): number {
    let n = 0;
    for (const e of idle) if (e.pool === this) n++;
    return n;
  }

  /** An idle isolate of this limit, or a new one; `wasmHeapMb`: always a new one of that heap limit, never pooled. */
  private take(wasmHeapMb?: number): ivm.Isolate {
    if (this.closed) throw new RemoteMediaError('CANCELLED', 'sandbox: the isolate pool is closed');
    for (let i = idle.length - 1; i >= 0 && wasmHeapMb === undefined; i--) {
      const entry = idle[i]!;
      if (entry.isolate.isDisposed) {
        idle.splice(i, 1);
        continue;
      }
      if (entry.pool.memoryLimitMb !== this.memoryLimitMb) continue;
      idle.splice(i, 1);
      this.live++;
      return entry.isolate;
    }
    const { maxIsolates } = sandboxCaps();
    // Idle isolates of other memory limits make room before a new one is refused.
    while (liveIsolates() >= maxIsolates && idle.length > 0) evictIdle(0);
    if (liveIsolates() >= maxIsolates) {
      throw new SandboxLimitError('RESOURCE_EXHAUSTED', `sandbox: maxIsolates (${maxIsolates}) isolates are alive in this process; release an object or end a stream first`, {
        node: 'sandbox',
      });
    }
    const isolate = new (loadIvm().Isolate)({ memoryLimit: wasmHeapMb ?? this.memoryLimitMb });
    created.add(isolate);
    if (wasmHeapMb !== undefined) wasmIsolates.add(isolate);
    this.live++;
    return isolate;
  }
}

const sharedPools = new Map<number, IsolatePool>();

/** The process-wide pool for a memory limit (used by `codeNode`); limits other than the cap's keep no idle isolate. */
export function sharedIsolatePool(memoryLimitMb: number = DEFAULT_ISOLATE_POOL.memoryLimitMb): IsolatePool {
  let pool = sharedPools.get(memoryLimitMb);
  if (pool === undefined) {
    pool = new IsolatePool({ memoryLimitMb, maxIdle: memoryLimitMb === sandboxCaps().memoryLimitMb || memoryLimitMb === DEFAULT_ISOLATE_POOL.memoryLimitMb ? DEFAULT_ISOLATE_POOL.maxIdle : 0 });
    sharedPools.set(memoryLimitMb, pool);
  }
  return pool;
}
