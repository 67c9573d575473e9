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
 * - `'wasm'`: WebAssembly. Reserved: not granted by this version (see {@link assertCapabilitiesAllowed}).
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
 * Sets this process's caps (fields left out keep {@link DEFAULT_SANDBOX_CAPS}). `'wasm'` is refused: WebAssembly
 * memories are reserved outside isolated-vm's heap limit, and this version does not account for them.
 */
export function setSandboxCaps(next: Partial<SandboxCaps>): void {
  const merged = { ...DEFAULT_SANDBOX_CAPS, ...next };
  for (const [field, min] of [['timeoutMs', 1], ['memoryLimitMb', 8], ['maxIsolates', 1]] as const) {
    if (!Number.isInteger(merged[field]) || merged[field] < min) throw new InvalidParamsError('sandbox', field, `must be an integer ≥ ${min}, got ${merged[field]}`);
  }
  if (merged.capabilities.includes('wasm')) throw new InvalidParamsError('sandbox', 'capabilities', WASM_REFUSED);
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

const WASM_REFUSED =
  "'wasm' is not available: WebAssembly memories are allocated outside the sandbox's memory limit, so WebAssembly is removed from every sandbox";

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
  return {
    timeoutMs: Math.min(requested.timeoutMs ?? caps.timeoutMs, caps.timeoutMs),
    memoryLimitMb: Math.min(requested.memoryLimitMb ?? caps.memoryLimitMb, caps.memoryLimitMb),
    capabilities,
  };
}

/** Throws `PROTOCOL` naming the first capability this process does not grant. */
export function assertCapabilitiesAllowed(node: string, capabilities: readonly SandboxCapability[]): void {
  for (const capability of capabilities) {
    if (capability === 'wasm') throw new RemoteMediaError('PROTOCOL', `${node}: ${WASM_REFUSED}`, { node });
    if (!caps.capabilities.includes(capability)) {
      throw new RemoteMediaError('PROTOCOL', `${node}: capability '${capability}' is not granted by this executor (it allows: ${caps.capabilities.join(', ') || 'none'})`, { node });
    }
  }
}
