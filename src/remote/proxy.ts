/**
 * The proxy surface. One module-level handler serves every proxy (as Cap'n Web does); every trap is written out and
 * the meaningless ones throw a sentence. Any string member becomes a remote member: calling it calls the method,
 * awaiting it reads the property. `then` is never remote, so a proxy is not a thenable; symbols stay local.
 *
 * A call returns a promise that is also async-iterable: `for await (const x of proxy.gen())` pulls a remote
 * generator in batches; its early `return()` closes the remote one (its `finally` runs).
 *
 * @internal
 */
import { ProxyDisposedError, RemoteMediaError } from '../errors.js';
import { decodePayload, encodePayload } from './codec.js';
import { InvokeOp } from './gen/remotemedia.js';
import type { SessionChannel } from './proxySession.js';

/** What {@link Remote} maps a method's result to: a promise, also async-iterable for generators. */
export type RemoteResult<R> = [R] extends [never]
  ? Promise<never>
  : [R] extends [AsyncGenerator<infer Y, unknown, unknown> | Generator<infer Y, unknown, unknown>]
  ? Promise<AsyncIterableIterator<Y>> & AsyncIterable<Y>
  : Promise<Awaited<R>>;

/**
 * A proxy of `T`: methods return promises ({@link RemoteResult}), properties are awaitable, and
 * `Symbol.asyncDispose` releases the remote object.
 */
export type Remote<T> = {
  readonly [K in keyof T as K extends string ? (K extends 'then' ? never : K) : never]: T[K] extends (...args: infer A) => infer R
    ? ((...args: A) => RemoteResult<R>) & PromiseLike<never>
    : PromiseLike<Awaited<T[K]>>;
} & AsyncDisposable;

/** Unwraps a proxy to its state (never a remote member name). */
export const RAW_PROXY: unique symbol = Symbol('remotemedia.rawProxy');

/** The state behind one proxy. */
export class ProxyState {
  disposed: Promise<void> | undefined;

  constructor(
    readonly channel: SessionChannel,
    readonly objectId: string,
    readonly label: string,
    readonly batchSize: number,
    private readonly onRelease: (state: ProxyState) => void,
  ) {}

  /** Frees the remote object; idempotent (every call returns the first release). */
  release(): Promise<void> {
    this.disposed ??= (async () => {
      this.onRelease(this);
      await this.channel.request({ release: { objectId: this.objectId } }).then(
        () => undefined,
        // The object is gone with its session anyway when the connection is.
        () => undefined,
      );
    })();
    return this.disposed;
  }

  invoke(op: InvokeOp, name: string, args?: readonly unknown[]): Promise<unknown> {
    if (this.disposed !== undefined) return Promise.reject(new ProxyDisposedError('CANCELLED', `${this.label}.${name}: the proxy was released`, { node: this.label }));
    const request = { invoke: { objectId: this.objectId, op, name, args: args === undefined ? Buffer.alloc(0) : encodePayload(args), batchSize: this.batchSize } };
    return this.channel.request(request).then((result) =>
      result.handle !== '' ? new RemoteIterator(this, result.handle) : result.value.length === 0 ? undefined : decodePayload(result.value),
    );
  }
}

/** A remote iterator pulled `batchSize` items at a time. */
class RemoteIterator implements AsyncIterableIterator<unknown> {
  private buffer: unknown[] = [];
  private finished = false;

  constructor(
    private readonly state: ProxyState,
    private readonly handle: string,
  ) {}

  async next(): Promise<IteratorResult<unknown>> {
    if (this.buffer.length === 0 && !this.finished) {
      const result = await this.state.channel.request({
        invoke: { objectId: this.state.objectId, op: InvokeOp.INVOKE_OP_NEXT, name: this.handle, args: Buffer.alloc(0), batchSize: this.state.batchSize },
      });
      this.buffer = decodePayload(result.value) as unknown[];
      this.finished = result.done;
    }
    if (this.buffer.length > 0) return { value: this.buffer.shift(), done: false };
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<unknown>> {
    this.buffer = [];
    if (!this.finished) {
      this.finished = true;
      await this.state.channel.request({
        invoke: { objectId: this.state.objectId, op: InvokeOp.INVOKE_OP_RETURN, name: this.handle, args: Buffer.alloc(0), batchSize: 0 },
      });
    }
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

function asIterator(value: unknown, what: string): RemoteIterator {
  if (value instanceof RemoteIterator) return value;
  throw new RemoteMediaError('INVALID_INPUT', `${what} did not return an iterator; await it instead of iterating`);
}

/** A call: sent at once; the promise is also async-iterable (for generator methods). */
function call(state: ProxyState, name: string, args: unknown[]): Promise<unknown> & AsyncIterable<unknown> {
  const promise = state.invoke(InvokeOp.INVOKE_OP_CALL, name, args) as Promise<unknown> & AsyncIterable<unknown>;
  promise[Symbol.asyncIterator] = () => {
    const what = `${state.label}.${name}()`;
    let iterator: Promise<RemoteIterator> | undefined;
    const it = (): Promise<RemoteIterator> => (iterator ??= promise.then((v) => asIterator(v, what)));
    return {
      next: () => it().then((i) => i.next()),
      return: () => it().then((i) => i.return()),
      [Symbol.asyncIterator]() {
        return this;
      },
    } as AsyncIterableIterator<unknown>;
  };
  return promise;
}

/** `proxy.name`: call it to call the method, await it to read the property. */
function member(state: ProxyState, name: string): unknown {
  const method = (...args: unknown[]): Promise<unknown> => call(state, name, args);
  const then = (onFulfilled?: (v: unknown) => unknown, onRejected?: (e: unknown) => unknown): Promise<unknown> =>
    state.invoke(InvokeOp.INVOKE_OP_GET, name).then(onFulfilled, onRejected);
  return Object.assign(method, { then });
}

function unsupported(what: string): never {
  throw new TypeError(`a remote proxy cannot ${what}: use its methods, or await its properties`);
}

type Target = Record<PropertyKey, never> & { [RAW_PROXY]: ProxyState };

const PROXY_HANDLERS: ProxyHandler<Target> = {
  get(target, prop) {
    const state = target[RAW_PROXY];
    if (prop === RAW_PROXY) return state;
    if (prop === Symbol.asyncDispose) return () => state.release();
    // Not thenable (awaiting a proxy gives the proxy); other symbols (inspection, iteration) stay local.
    if (prop === 'then' || typeof prop === 'symbol') return undefined;
    return member(state, prop);
  },
  set: () => unsupported('have properties set (call a method on the remote object instead)'),
  has: (_target, prop) => prop === Symbol.asyncDispose,
  deleteProperty: () => unsupported('have properties deleted'),
  defineProperty: () => unsupported('have properties defined'),
  ownKeys: () => [],
  getOwnPropertyDescriptor: () => undefined,
  apply: () => unsupported('be called (call one of its methods)'),
  construct: () => unsupported('be constructed (use client.createProxy)'),
  getPrototypeOf: () => null,
  setPrototypeOf: () => unsupported('change its prototype'),
  isExtensible: () => true,
  preventExtensions: () => unsupported('be made non-extensible'),
};

/** Builds the proxy for a state. */
export function proxyFor<T>(state: ProxyState): Remote<T> {
  const target = Object.create(null) as Target;
  // Configurable, so that `ownKeys` may report no keys without breaking a Proxy invariant.
  Object.defineProperty(target, RAW_PROXY, { value: state, configurable: true });
  return new Proxy(target, PROXY_HANDLERS) as unknown as Remote<T>;
}

/** The state behind a proxy, or undefined for anything else. */
export function proxyState(value: unknown): ProxyState | undefined {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  try {
    const state = (value as { [RAW_PROXY]?: unknown })[RAW_PROXY];
    return state instanceof ProxyState ? state : undefined;
  } catch {
    return undefined;
  }
}
