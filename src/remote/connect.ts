/**
 * `connect(config)`: a client for object proxies on one executor. `client.createProxy(target, ...args)` creates a
 * remote object and returns its proxy:
 * - `target` a string: an instance of the class the executor registered under that name (`registerClass`);
 * - a class: its source is shipped (`Class.toString()`, self-contained) and instantiated in a sandbox;
 * - an instance: its class is shipped and its own enumerable state restored (constructor not run);
 * - `fromModule(url, exportName)`: the module and its local imports are bundled with esbuild and shipped.
 *
 * Ownership (docs/PROXIES.md): the caller owns every proxy it creates and releases it with
 * `await proxy[Symbol.asyncDispose]()` (or `await using`), `client.release(proxy)`, or `client.close()`.
 *
 * @module
 */
import { z } from 'zod';
import { InvalidParamsError, RemoteMediaError } from '../errors.js';
import { parseParams } from '../node.js';
import { packageModule, packageSource, type PackagedCode } from '../sandbox/packageCode.js';
import { acquire } from './channelPool.js';
import { encodePayload } from './codec.js';
import { resolveRemoteConfig, type RemoteConfig } from './config.js';
import { proxyFor, proxyState, ProxyState, type Remote } from './proxy.js';
import { SessionChannel } from './proxySession.js';

/** Defaults of {@link ConnectConfig} beyond {@link RemoteConfig}. */
export const DEFAULT_CONNECT_CONFIG = { batchSize: 16 } as const;

const ProxyOptionsSchema = z.object({
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(1024)
    .default(DEFAULT_CONNECT_CONFIG.batchSize)
    .describe('Items pulled per round trip from a remote generator. Default: 16.'),
});

/** Configuration of {@link connect}: where the executor is (as for `remote()`) plus proxy options. */
export type ConnectConfig = RemoteConfig & z.input<typeof ProxyOptionsSchema>;

/** Shipped code named by module: see {@link fromModule}. */
export interface ModuleClass<T = unknown> {
  readonly kind: 'module';
  readonly module: string | URL;
  readonly exportName: string;
  /** Own state to restore instead of running the constructor. */
  readonly state?: Record<string, unknown>;
  /** Type marker only. */
  readonly __type?: T;
}

/**
 * Names a class by its module, for classes that import other local files: the module is bundled with esbuild
 * (local imports included; bare packages only if the executor allow-lists them).
 * @example
 * ```ts
 * const counter = await client.createProxy(fromModule<Counter>(new URL('./counter.ts', import.meta.url), 'Counter'), 10);
 * ```
 */
export function fromModule<T = unknown>(module: string | URL, exportName: string, options: { state?: Record<string, unknown> } = {}): ModuleClass<T> {
  return { kind: 'module', module, exportName, ...(options.state === undefined ? {} : { state: options.state }) };
}

type AnyClass = abstract new (...args: never[]) => object;

/** A client of one executor's proxy session. Close it (or `await using`) to free every object it created. */
export class RemoteClient implements AsyncDisposable {
  private readonly proxies = new Set<ProxyState>();
  private readonly packaged = new WeakMap<object, PackagedCode>();
  private closing: Promise<void> | undefined;

  /** @internal Use {@link connect}. */
  constructor(
    private readonly channel: SessionChannel,
    private readonly batchSize: number,
  ) {}

  /** Executor address this client is pinned to. */
  get address(): string {
    return this.channel.address;
  }

  /** Proxies created and not yet released. */
  get liveProxies(): number {
    return this.proxies.size;
  }

  /** A proxy of the class registered on the executor as `name`. */
  createProxy<T = Record<string, unknown>>(name: string, ...args: unknown[]): Promise<Remote<T>>;
  /** A proxy of a module's class (shipped code). */
  createProxy<T>(target: ModuleClass<T>, ...args: unknown[]): Promise<Remote<T>>;
  /** A proxy of a self-contained class (shipped code, run in a sandbox). */
  createProxy<C extends AnyClass>(Class: C, ...args: ConstructorParameters<C>): Promise<Remote<InstanceType<C>>>;
  /** A proxy of an instance: its class is shipped and its own enumerable state restored. */
  createProxy<T extends object>(instance: T): Promise<Remote<T>>;
  async createProxy(target: unknown, ...args: unknown[]): Promise<unknown> {
    if (this.closing !== undefined) throw new RemoteMediaError('CANCELLED', 'createProxy: the client is closed');
    const body = typeof target === 'string' ? { className: target, code: '', exportName: '', state: Buffer.alloc(0) } : await this.ship(target);
    const label = typeof target === 'string' ? target : labelOf(target);
    const result = await this.channel.request({ create: { ...body, args: encodePayload(args) } });
    const state = new ProxyState(this.channel, result.handle, label, this.batchSize, (s) => this.proxies.delete(s));
    this.proxies.add(state);
    return proxyFor(state);
  }

  /** Releases a proxy's remote object (idempotent; later calls on it reject with `ProxyDisposedError`). */
  release(proxy: unknown): Promise<void> {
    const state = proxyState(proxy);
    if (state === undefined) return Promise.reject(new InvalidParamsError('release', 'proxy', 'not a proxy created by createProxy'));
    return state.release();
  }

  /** Releases every proxy, then closes the session (the executor disposes anything left at once). Idempotent. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      await Promise.all([...this.proxies].map((p) => p.release()));
      await this.channel.close();
    })());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async ship(target: unknown): Promise<{ className: string; code: string; exportName: string; state: Buffer }> {
    const opened = await this.channel.ensureOpen();
    if (!opened.codeEnabled) throw new RemoteMediaError('PROTOCOL', `createProxy: the executor at ${this.address} does not run shipped code (--no-code)`);
    let code: PackagedCode;
    let state: Record<string, unknown> | undefined;
    if (isModuleClass(target)) {
      code = await packageModule(target.module, target.exportName, { allowModules: opened.allowModules });
      state = target.state;
    } else if (typeof target === 'function') {
      code = this.packageClass(target as AnyClass);
    } else if (typeof target === 'object' && target !== null) {
      const Class = Object.getPrototypeOf(target)?.constructor as AnyClass | undefined;
      if (typeof Class !== 'function' || Class === Object) throw new InvalidParamsError('createProxy', 'target', 'a plain object has no class to ship; pass a class instance');
      code = this.packageClass(Class);
      state = { ...(target as Record<string, unknown>) };
    } else {
      throw new InvalidParamsError('createProxy', 'target', `expected a registered class name, a class, an instance or fromModule(), got ${typeof target}`);
    }
    return { className: '', code: code.code, exportName: code.exportName, state: state === undefined ? Buffer.alloc(0) : encodePayload(state) };
  }

  private packageClass(Class: AnyClass): PackagedCode {
    let code = this.packaged.get(Class);
    if (code === undefined) {
      code = packageSource(Class, Class.name || 'class');
      this.packaged.set(Class, code);
    }
    return code;
  }
}

function isModuleClass(value: unknown): value is ModuleClass {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'module';
}

function labelOf(target: unknown): string {
  if (isModuleClass(target)) return target.exportName || 'default';
  if (typeof target === 'function') return target.name || 'class';
  return (Object.getPrototypeOf(target) as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'object';
}

/**
 * Connects to an executor for object proxies (the session opens on first use and stays pinned to that executor).
 * Throws `InvalidParamsError` for a bad config.
 * @example
 * ```ts
 * await using client = await connect({ address: '127.0.0.1:50051' });
 * const counter = await client.createProxy('Counter', 10);
 * await counter.increment(); // 11
 * ```
 */
export async function connect(config: ConnectConfig): Promise<RemoteClient> {
  const { batchSize, ...remoteConfig } = config;
  const options = parseParams('connect', ProxyOptionsSchema, { batchSize });
  const resolved = resolveRemoteConfig(remoteConfig);
  const channel = new SessionChannel(resolved, acquire(resolved));
  try {
    await channel.ensureOpen();
  } catch (e) {
    await channel.close();
    throw e;
  }
  return new RemoteClient(channel, options.batchSize);
}
