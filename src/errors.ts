/**
 * Errors of remotemedia. Every error the framework raises is a {@link RemoteMediaError} with a machine-readable
 * {@link ErrorCode}, the node type that failed (when one did) and, for errors that crossed the wire, the remote stack.
 *
 * On the wire an error is data (`{ code, message, node, stack }`); {@link errorFromData} rebuilds the class through a
 * null-prototype allow-list, so a name sent by a peer can never reach an inherited member.
 *
 * @module
 */

/**
 * Machine-readable error codes.
 * - `INVALID_PARAMS`: a node's params failed validation (before any data flowed).
 * - `UNKNOWN_NODE`: a spec names a node type that is not registered.
 * - `INVALID_INPUT`: an item reaching a node has the wrong shape (e.g. not an AudioFrame).
 * - `NODE_FAILED`: a node's own logic threw while processing an item.
 * - `DIVISION_BY_ZERO`: `calculator` divide/modulo by zero.
 * - `OVERFLOW`: a bounded queue with `overflow: 'error'` (or `'block'` overrun past `PUSH_SOURCE_LIMITS` by a source that cannot pause) was full.
 * - `IO`: reading or writing a file or stream failed.
 * - `CANCELLED`, `UNAVAILABLE`, `DEADLINE_EXCEEDED`, `RESOURCE_EXHAUSTED`, `UNAUTHENTICATED`, `PROTOCOL`:
 *   transport-level conditions used by the remote layer.
 * - `INTERNAL`: anything else (a bug, or a non-Error value thrown).
 */
export type ErrorCode =
  | 'INVALID_PARAMS'
  | 'UNKNOWN_NODE'
  | 'INVALID_INPUT'
  | 'NODE_FAILED'
  | 'DIVISION_BY_ZERO'
  | 'OVERFLOW'
  | 'IO'
  | 'CANCELLED'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAUTHENTICATED'
  | 'PROTOCOL'
  | 'INTERNAL';

/** Codes whose operation may succeed if retried unchanged (transport conditions, never bad input). */
const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED']);

/** Options common to every {@link RemoteMediaError}. */
export interface RemoteMediaErrorOptions {
  /** Node type that failed, e.g. `'audio.resample'`. Default: none. */
  readonly node?: string;
  /** The underlying error. Default: none. */
  readonly cause?: unknown;
  /** Stack trace recorded on the executor, for errors that crossed the wire. Default: none. */
  readonly remoteStack?: string;
}

/** Base class of every error remotemedia raises. Compare by {@link RemoteMediaError.code}, not by message. */
export class RemoteMediaError extends Error {
  override readonly name: string = 'RemoteMediaError';
  /** Machine-readable code. */
  readonly code: ErrorCode;
  /** Node type that failed, when one did. */
  readonly node: string | undefined;
  /** Stack recorded where the error happened, when that was another process. */
  readonly remoteStack: string | undefined;

  constructor(code: ErrorCode, message: string, options: RemoteMediaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.node = options.node;
    this.remoteStack = options.remoteStack;
  }

  /** True when retrying the same operation may succeed (transport conditions only). */
  get retryable(): boolean {
    return RETRYABLE_CODES.has(this.code);
  }
}

/** A node's params failed validation. {@link InvalidParamsError.field} names the offending path, e.g. `'samples'`. */
export class InvalidParamsError extends RemoteMediaError {
  override readonly name = 'InvalidParamsError';
  /** Dotted path of the first invalid field (`''` when the params object itself is wrong). */
  readonly field: string;

  constructor(node: string, field: string, problem: string, options: Omit<RemoteMediaErrorOptions, 'node'> = {}) {
    super('INVALID_PARAMS', `${node}: invalid params${field ? ` field '${field}'` : ''}: ${problem}`, { ...options, node });
    this.field = field;
  }
}

/** A spec names a node type that is not registered. */
export class UnknownNodeError extends RemoteMediaError {
  override readonly name = 'UnknownNodeError';

  constructor(type: string, known: readonly string[]) {
    const hint = known.length > 0 ? `; registered types: ${known.join(', ')}` : '';
    super('UNKNOWN_NODE', `unknown node type '${type}'${hint}`, { node: type });
  }
}

/** An item reaching a node has the wrong shape. {@link InvalidInputError.field} names what was wrong. */
export class InvalidInputError extends RemoteMediaError {
  override readonly name = 'InvalidInputError';
  /** The offending field of the input item (`''` for the item itself). */
  readonly field: string;

  constructor(node: string, field: string, problem: string) {
    super('INVALID_INPUT', `${node}: invalid input${field ? ` field '${field}'` : ''}: ${problem}`, { node });
    this.field = field;
  }
}

/** A bounded queue overflowed with a policy that does not drop. */
export class OverflowError extends RemoteMediaError {
  override readonly name = 'OverflowError';
}

/**
 * Sandboxed code hit a limit: `DEADLINE_EXCEEDED` (a call ran longer than `timeoutMs`) or `RESOURCE_EXHAUSTED`
 * (the isolate reached `memoryLimitMb`). The isolate that hit it is disposed; the host keeps serving.
 */
export class SandboxLimitError extends RemoteMediaError {
  override readonly name = 'SandboxLimitError';
}

/** A call on a proxy that was released (`Symbol.asyncDispose`, `client.release()`, `client.close()`); code `CANCELLED`. */
export class ProxyDisposedError extends RemoteMediaError {
  override readonly name = 'ProxyDisposedError';
}

/**
 * The executor holds no session or object with the given id (released, expired after the reconnect TTL, or never
 * created); code `PROTOCOL` (gRPC `FAILED_PRECONDITION`). The message names the id.
 */
export class SessionNotFoundError extends RemoteMediaError {
  override readonly name = 'SessionNotFoundError';
}

/** Error data as it travels between processes. */
export interface ErrorData {
  readonly name: string;
  readonly code: ErrorCode;
  readonly message: string;
  readonly node?: string | undefined;
  readonly stack?: string | undefined;
}

/** Rebuilds an error class from wire data (see {@link registerErrorClass}). */
export type ErrorReviver = (data: ErrorData & { readonly code: ErrorCode }) => RemoteMediaError;

const revive = (Ctor: typeof RemoteMediaError): ErrorReviver => (d) => new Ctor(d.code, d.message, { node: d.node, remoteStack: d.stack });

/** Error classes a peer may name; null prototype so `'constructor'` or `'__proto__'` name nothing. */
const ERROR_CLASSES: Record<string, ErrorReviver | undefined> = Object.assign(Object.create(null) as object, {
  RemoteMediaError: revive(RemoteMediaError),
  OverflowError: revive(OverflowError),
  SandboxLimitError: revive(SandboxLimitError),
  ProxyDisposedError: revive(ProxyDisposedError),
  SessionNotFoundError: revive(SessionNotFoundError),
});

/**
 * Lets a trusted module (not a peer) add an error class that {@link errorFromData} may rebuild by name, e.g. the
 * engine layer's `EngineUnavailableError`, so that its class (and its `retryable`) survive the wire.
 * Registering a name twice throws.
 */
export function registerErrorClass(name: string, reviver: ErrorReviver): void {
  if (ERROR_CLASSES[name] !== undefined) throw new RemoteMediaError('INTERNAL', `error class '${name}' is already registered`);
  ERROR_CLASSES[name] = reviver;
}

const KNOWN_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'INVALID_PARAMS', 'UNKNOWN_NODE', 'INVALID_INPUT', 'NODE_FAILED', 'DIVISION_BY_ZERO', 'OVERFLOW', 'IO', 'CANCELLED',
  'UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'UNAUTHENTICATED', 'PROTOCOL', 'INTERNAL',
]);

/** Turns any thrown value into wire data. Non-remotemedia errors become `INTERNAL` (or `NODE_FAILED` when `node` is known). */
export function errorToData(error: unknown, node?: string): ErrorData {
  if (error instanceof RemoteMediaError) {
    return { name: error.name, code: error.code, message: error.message, node: error.node ?? node, stack: error.remoteStack ?? error.stack };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { name: 'RemoteMediaError', code: node ? 'NODE_FAILED' : 'INTERNAL', message: e.message, node, stack: e.stack };
}

/** Rebuilds an error received from a peer; unknown class names or codes fall back to `RemoteMediaError` / `INTERNAL`. */
export function errorFromData(data: ErrorData): RemoteMediaError {
  const code: ErrorCode = KNOWN_CODES.has(data.code) ? data.code : 'INTERNAL';
  return (ERROR_CLASSES[data.name] ?? ERROR_CLASSES['RemoteMediaError']!)({ ...data, code });
}

/**
 * Wraps anything a node threw so that it carries the node type: a {@link RemoteMediaError} without a node is
 * attributed to `node` in place (its class, code and fields are kept; the message gets the node prefix), any other
 * value becomes `NODE_FAILED` with the original as `cause`.
 */
export function toNodeError(error: unknown, node: string): RemoteMediaError {
  if (error instanceof RemoteMediaError) {
    if (error.node === undefined) {
      (error as { node: string | undefined }).node = node;
      error.message = `${node}: ${error.message}`;
    }
    return error;
  }
  const message = error instanceof Error ? error.message : String(error);
  return new RemoteMediaError('NODE_FAILED', `${node}: ${message}`, { node, cause: error });
}

// An absolute POSIX path or file URL of two or more segments (install paths, module paths in messages).
const ABSOLUTE_PATH = /(?:file:\/\/)?(?<![\w.])\/(?:[\w.@+-]+\/)+[\w.@+-]*/g;

/**
 * Replaces absolute filesystem paths in `text` with `<path>`: what an error may say to a caller who must not learn
 * the install layout (the executor's unauthenticated callers, a WebRTC page).
 */
export function redactPaths(text: string): string {
  return text.replace(ABSOLUTE_PATH, '<path>');
}
