/**
 * Process-wide sandbox policy: whether user code runs at all, and the caps every sandbox in this process obeys.
 * An executor sets both at start (`--no-code`, `--sandbox-timeout-ms`, `--sandbox-memory-limit-mb`,
 * `--max-isolates`, `--sandbox-capability`) and resets them on close. The node model knows no executor, so a
 * `core.codeNode` spec arriving over the wire reads them here when its chain is built: what a client asks for
 * (`timeoutMs`, `memoryLimitMb`, `capabilities`) can only lower these caps, never raise them.
 *
 * @module
 */
import { InvalidParamsError, RemoteMediaError } from '../errors.js';

/**
 * Capabilities user code may be granted.
 * - `'console'`: `console.log/info/warn/error` forwarded to the host's sink (bounded lines and length).
 * - `'wasm'`: WebAssembly, through a wrapper that accounts for its memory (see {@link wasmMemorySplit}). Off unless
 *   the process allows it (an executor's `--sandbox-capability wasm`; not in {@link DEFAULT_SANDBOX_CAPS}) and the
 *   code asks for it (`codeNode`'s `capabilities`). WebAssembly memories live outside the isolate's heap, so a
 *   sandbox granted `'wasm'` splits its `memoryLimitMb`: half is its heap limit, half its WebAssembly budget, and
 *   every memory (declared `maximum` × 64 KiB, required) and compiled module is reserved from that budget before it
 *   is created, for the sandbox's life. Heap plus WebAssembly therefore stay within `memoryLimitMb`.
 */
export type SandboxCapability = 'console' | 'wasm';

/** The caps of this process. */
export interface SandboxCaps {
  /** Longest single call into a sandbox, ms; a client's `timeoutMs` is lowered to it. Bounds CPU one call takes. */
  readonly timeoutMs: number;
  /** Heap limit of one isolate, MB; a client's `memoryLimitMb` is lowered to it. Bounds memory one sandbox takes. */
  readonly memoryLimitMb: number;
  /**
   * isolated-vm isolates alive at once in the process, over all pools (in use or idle). Bounds total sandbox memory
   * (`maxIsolates × memoryLimitMb`) and threads; one more gets `SandboxLimitError` `RESOURCE_EXHAUSTED`.
   */
  readonly maxIsolates: number;
  /**
   * Isolates in use at once on behalf of one client (see {@link withSandboxOwner}; an executor's client is a peer IP
   * address). Without it one client took every isolate (32 shipped objects through one Session call, or one Stream
   * of 32 `codeNode`s) and every other client's code was refused. Beyond it `SandboxLimitError`
   * `RESOURCE_EXHAUSTED` naming `maxIsolatesPerClient`; it also bounds the `codeNode`s one chain may run. Code run on
   * behalf of nobody (a library user's own) is not counted.
   */
  readonly maxIsolatesPerClient: number;
  /** Capabilities clients may request. */
  readonly capabilities: readonly SandboxCapability[];
}

/**
 * Caps of a process that set none (a library user running `codeNode` locally trusts its own code; the schema
 * bounds still apply). An executor always sets its own.
 */
export const DEFAULT_SANDBOX_CAPS: SandboxCaps = Object.freeze({
  timeoutMs: 60_000,
  memoryLimitMb: 4096,
  maxIsolates: 32,
  maxIsolatesPerClient: 32,
  capabilities: Object.freeze(['console'] as SandboxCapability[]),
});

let enabled = true;
let caps: SandboxCaps = DEFAULT_SANDBOX_CAPS;

/** Turns running user code in this process on or off. Default: on. */
export function setUserCodeEnabled(on: boolean): void {
  enabled = on;
}

/** True when user code may run in this process. */
export function userCodeEnabled(): boolean {
  return enabled;
}

/** Throws `PROTOCOL` (gRPC FAILED_PRECONDITION) naming `node` when user code is off. */
export function assertUserCodeEnabled(node: string): void {
  if (!enabled) throw new RemoteMediaError('PROTOCOL', `${node}: this process does not run user code (executor started with --no-code)`, { node });
}

/**
 * Sets this process's caps (fields left out keep {@link DEFAULT_SANDBOX_CAPS}). `'wasm'` in `capabilities` lets
 * clients ask for WebAssembly (see {@link SandboxCapability}); it needs `memoryLimitMb` ≥ {@link WASM_MIN_MEMORY_LIMIT_MB}.
 */
export function setSandboxCaps(next: Partial<SandboxCaps>): void {
  const merged = { ...DEFAULT_SANDBOX_CAPS, ...next };
  for (const [field, min] of [['timeoutMs', 1], ['memoryLimitMb', 8], ['maxIsolates', 1], ['maxIsolatesPerClient', 1]] as const) {
    if (!Number.isInteger(merged[field]) || merged[field] < min) throw new InvalidParamsError('sandbox', field, `must be an integer ≥ ${min}, got ${merged[field]}`);
  }
  if (merged.capabilities.includes('wasm') && merged.memoryLimitMb < WASM_MIN_MEMORY_LIMIT_MB) {
    throw new InvalidParamsError('sandbox', 'capabilities', `'wasm' needs memoryLimitMb ≥ ${WASM_MIN_MEMORY_LIMIT_MB} (half of it is the WebAssembly budget), got ${merged.memoryLimitMb}`);
  }
  caps = Object.freeze({ ...merged, capabilities: Object.freeze([...merged.capabilities]) });
}

/** Back to {@link DEFAULT_SANDBOX_CAPS} (an executor calls it on close). */
export function resetSandboxCaps(): void {
  caps = DEFAULT_SANDBOX_CAPS;
}

/** The caps in force. */
export function sandboxCaps(): SandboxCaps {
  return caps;
}

let currentOwner: string | undefined;

/**
 * Runs `fn` on behalf of `owner` (an executor passes the client's peer IP address): every sandbox requested while
 * `fn` runs synchronously counts against that owner's {@link SandboxCaps.maxIsolatesPerClient} until it is disposed.
 * The owner is read when the sandbox is requested (`IsolatePool.createSandbox()`), not when its isolate is made, so
 * a `codeNode` whose sandbox is created later, asynchronously, still counts for the client whose chain asked for it.
 */
export function withSandboxOwner<T>(owner: string, fn: () => T): T {
  const previous = currentOwner;
  currentOwner = owner;
  try {
    return fn();
  } finally {
    currentOwner = previous;
  }
}

/** The owner sandboxes requested right now are counted for ({@link withSandboxOwner}); `undefined`: nobody. */
export function sandboxOwner(): string | undefined {
  return currentOwner;
}

/** Smallest `memoryLimitMb` of a sandbox granted `'wasm'`: its heap (half of it) must stay ≥ isolated-vm's 8 MB. */
export const WASM_MIN_MEMORY_LIMIT_MB = 16;

/**
 * How a sandbox granted `'wasm'` splits its `memoryLimitMb`: `wasmBudgetMb` (half, rounded down) for WebAssembly
 * memories and compiled code, the rest (`heapMb`) as its isolate's heap limit. Heap + WebAssembly ≤ `memoryLimitMb`.
 */
export function wasmMemorySplit(memoryLimitMb: number): { heapMb: number; wasmBudgetMb: number } {
  if (!(memoryLimitMb >= WASM_MIN_MEMORY_LIMIT_MB)) {
    throw new InvalidParamsError('sandbox', 'memoryLimitMb', `a sandbox granted 'wasm' needs memoryLimitMb ≥ ${WASM_MIN_MEMORY_LIMIT_MB} (half of it is the WebAssembly budget), got ${memoryLimitMb}`);
  }
  const wasmBudgetMb = Math.floor(memoryLimitMb / 2);
  return { heapMb: memoryLimitMb - wasmBudgetMb, wasmBudgetMb };
}

/** Limits a client asked for (absent = the cap). */
export interface RequestedSandboxLimits {
  readonly timeoutMs?: number;
  readonly memoryLimitMb?: number;
  readonly capabilities?: readonly SandboxCapability[];
}

/**
 * The limits a sandbox gets: each requested limit lowered to the cap. A capability the caps do not allow is
 * refused with `PROTOCOL` (gRPC FAILED_PRECONDITION) naming it, rather than silently dropped: code that needs it
 * would fail later in a less clear way.
 */
export function resolveSandboxLimits(node: string, requested: RequestedSandboxLimits): Required<RequestedSandboxLimits> {
  const capabilities = requested.capabilities ?? [];
  assertCapabilitiesAllowed(node, capabilities);
  const memoryLimitMb = Math.min(requested.memoryLimitMb ?? caps.memoryLimitMb, caps.memoryLimitMb);
  if (capabilities.includes('wasm') && memoryLimitMb < WASM_MIN_MEMORY_LIMIT_MB) {
    throw new InvalidParamsError(node, 'memoryLimitMb', `'wasm' needs memoryLimitMb ≥ ${WASM_MIN_MEMORY_LIMIT_MB} (half of it is the WebAssembly budget), got ${memoryLimitMb}`);
  }
  return {
    timeoutMs: Math.min(requested.timeoutMs ?? caps.timeoutMs, caps.timeoutMs),
    memoryLimitMb,
    capabilities,
  };
}

/** Throws `PROTOCOL` naming the first capability this process does not grant. */
export function assertCapabilitiesAllowed(node: string, capabilities: readonly SandboxCapability[]): void {
  for (const capability of capabilities) {
    if (!caps.capabilities.includes(capability)) {
      if (capability === 'wasm') {
        throw new RemoteMediaError('PROTOCOL', `${node}: 'wasm' is not available: capability 'wasm' is not granted by this executor (start it with --sandbox-capability wasm; it allows: ${caps.capabilities.join(', ') || 'none'})`, { node });
      }
      throw new RemoteMediaError('PROTOCOL', `${node}: capability '${capability}' is not granted by this executor (it allows: ${caps.capabilities.join(', ') || 'none'})`, { node });
    }
  }
}
