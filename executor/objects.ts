/**
 * The objects behind proxies, one interface for both kinds:
 * - {@link HostObject}: an instance of a class registered with `registerClass`, in the executor's realm;
 * - {@link SandboxObject}: an instance of shipped code, inside its own isolated-vm context.
 * Both return a value or keep an iterator (async-generator results) and hand out its id.
 *
 * @module
 */
import { RemoteMediaError } from '../src/errors.js';
import type { Sandbox, SandboxResult } from '../src/sandbox/sandbox.js';

/** A value, or the id of an iterator the object keeps. */
export type CallResult = SandboxResult;

/** What a session can do with one object. */
export interface RemoteObject {
  /** Class name, used in error messages and as the error's `node`. */
  readonly label: string;
  call(name: string, args: readonly unknown[]): Promise<CallResult>;
  get(name: string): Promise<CallResult>;
  next(iterator: number, n: number): Promise<{ items: unknown[]; done: boolean }>;
  return(iterator: number): Promise<void>;
  /** Closes open iterators and frees the object; idempotent. */
  dispose(): Promise<void>;
}

/** Members a peer may never reach: everything every object has, and `then` (which would make proxies thenable). */
const FORBIDDEN = new Set([...Object.getOwnPropertyNames(Object.prototype), 'constructor', 'prototype', 'then']);

function member(label: string, name: string): string {
  if (FORBIDDEN.has(name)) throw new RemoteMediaError('INVALID_INPUT', `${label}: '${name}' is not a remote member`, { node: label });
  return name;
}

type AnyIterator = AsyncIterator<unknown> | Iterator<unknown>;

function isIterator(value: unknown): value is AnyIterator {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as Record<PropertyKey, unknown>;
  return typeof v['next'] === 'function' && (typeof v[Symbol.asyncIterator] === 'function' || typeof v[Symbol.iterator] === 'function');
}

/** An instance of a registered class. Its code is trusted: it runs in the executor's realm, without time limits. */
export class HostObject implements RemoteObject {
  private readonly iterators = new Map<number, AnyIterator>();
  private nextIterator = 1;
  private disposed = false;

  constructor(
    readonly label: string,
    private readonly instance: Record<string, unknown>,
  ) {}

  async call(name: string, args: readonly unknown[]): Promise<CallResult> {
    const f = this.instance[member(this.label, name)];
    if (typeof f !== 'function') throw new RemoteMediaError('INVALID_INPUT', `${this.label}: '${name}' is not a method`, { node: this.label });
    const value: unknown = await (f as (...a: unknown[]) => unknown).apply(this.instance, [...args]);
    if (!isIterator(value)) return { value };
    const id = this.nextIterator++;
    this.iterators.set(id, value);
    return { iterator: id };
  }

  async get(name: string): Promise<CallResult> {
    const value: unknown = this.instance[member(this.label, name)];
    if (typeof value === 'function') throw new RemoteMediaError('INVALID_INPUT', `${this.label}: '${name}' is a method: call it`, { node: this.label });
    return { value: await value };
  }

  async next(iterator: number, n: number): Promise<{ items: unknown[]; done: boolean }> {
    const it = this.iterators.get(iterator);
    if (it === undefined) throw new RemoteMediaError('PROTOCOL', `${this.label}: iterator ${iterator} not found`, { node: this.label });
    const items: unknown[] = [];
    while (items.length < n) {
      const r = await it.next();
      if (r.done === true) {
        this.iterators.delete(iterator);
        return { items, done: true };
      }
      items.push(r.value);
    }
    return { items, done: false };
  }

  async return(iterator: number): Promise<void> {
    const it = this.iterators.get(iterator);
    this.iterators.delete(iterator);
    await it?.return?.();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const id of [...this.iterators.keys()]) await this.return(id).catch(() => undefined);
    const target = this.instance as { [Symbol.asyncDispose]?: () => Promise<void>; [Symbol.dispose]?: () => void };
    if (typeof target[Symbol.asyncDispose] === 'function') await target[Symbol.asyncDispose]!();
    else if (typeof target[Symbol.dispose] === 'function') target[Symbol.dispose]!();
  }
}

/**
 * An instance of shipped code inside a sandbox (one context per object). Every call runs under the sandbox's time
 * limit on isolated-vm's thread, and its result or throw comes back as inert data made inside the sandbox (see
 * `src/sandbox/bridgeSource.ts`): nothing of the user's runs on the executor's thread.
 */
export class SandboxObject implements RemoteObject {
  constructor(
    readonly label: string,
    private readonly sandbox: Sandbox,
  ) {}

  call(name: string, args: readonly unknown[]): Promise<CallResult> {
    return this.sandbox.call(name, args);
  }

  get(name: string): Promise<CallResult> {
    return this.sandbox.get(name);
  }

  next(iterator: number, n: number): Promise<{ items: unknown[]; done: boolean }> {
    return this.sandbox.next(iterator, n);
  }

  return(iterator: number): Promise<void> {
    return this.sandbox.return(iterator);
  }

  dispose(): Promise<void> {
    return this.sandbox.dispose();
  }
}
