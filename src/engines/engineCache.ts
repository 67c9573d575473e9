/**
 * The engine registry and the process-wide engine cache.
 *
 * Engines are registered by kind and name (`registerEngine('stt', 'pocketsphinx', load)`); node params name them,
 * so a chain stays serializable. An engine is loaded once per (kind, name, options) and shared: each subscription
 * acquires it and releases it when done. When the last user releases an engine it is closed (model freed, child
 * processes killed) unless it was preloaded: {@link preloadEngines} pins engines for the life of the process, as an
 * executor does at start-up so that the first stream does not pay the load. {@link closeEngines} closes everything.
 * @module
 */
import { InvalidParamsError } from '../errors.js';
import type { EngineKind, EngineKinds, EngineOptions, MaybePromise } from './types.js';
import { EngineUnavailableError } from './engineErrors.js';

/** Loads an engine from its serializable options. */
export type EngineLoader<K extends EngineKind> = (options: EngineOptions) => MaybePromise<EngineKinds[K]>;

/** A use of a shared engine; call {@link EngineLease.release} exactly once when done. */
export interface EngineLease<K extends EngineKind> {
  /** The engine, or a promise of it while it loads (a loaded engine is returned synchronously). */
  readonly engine: MaybePromise<EngineKinds[K]>;
  release(): void;
}

/** One cached engine as reported by {@link engineCacheStats}. */
export interface EngineCacheEntryStats {
  readonly kind: EngineKind;
  readonly name: string;
  /** Current users (subscriptions). */
  readonly refs: number;
  /** Preloaded: kept when unused. */
  readonly pinned: boolean;
  readonly loaded: boolean;
}

/** What {@link preloadEngines} loads. */
export interface EngineRequest {
  readonly kind: EngineKind;
  readonly name: string;
  /** Default: `{}`. */
  readonly options?: EngineOptions;
}

interface Entry {
  readonly kind: EngineKind;
  readonly name: string;
  readonly key: string;
  refs: number;
  pinned: boolean;
  value: MaybePromise<EngineKinds[EngineKind]>;
  loaded: boolean;
}

const loaders = new Map<string, EngineLoader<EngineKind>>();
const cache = new Map<string, Entry>();

/** Registers an engine under `kind`/`name`. Registering a name twice throws. */
export function registerEngine<K extends EngineKind>(kind: K, name: string, load: EngineLoader<K>): void {
  const id = `${kind}:${name}`;
  if (loaders.has(id)) throw new InvalidParamsError('registerEngine', 'name', `engine '${name}' of kind '${kind}' is already registered`);
  loaders.set(id, load as EngineLoader<EngineKind>);
}

/** Names of the engines registered for `kind`, sorted. */
export function engineNames(kind: EngineKind): string[] {
  const prefix = `${kind}:`;
  return [...loaders.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)).sort();
}

/** Throws {@link InvalidParamsError} on field `field` of node `node` when no `kind` engine is named `name`. */
export function checkEngineName(kind: EngineKind, name: string, node: string, field = 'engine'): void {
  if (!loaders.has(`${kind}:${name}`)) {
    throw new InvalidParamsError(node, field, `unknown ${kind} engine '${name}'; registered: ${engineNames(kind).join(', ') || 'none'}`);
  }
}

// Key order must not matter: { a, b } and { b, a } are the same engine.
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function entryFor(kind: EngineKind, name: string, options: EngineOptions): Entry {
  const key = `${kind}:${name}:${stableJson(options)}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const load = loaders.get(`${kind}:${name}`);
  if (load === undefined) throw new EngineUnavailableError(name, `no ${kind} engine '${name}' is registered; registered: ${engineNames(kind).join(', ') || 'none'}`);
  const entry: Entry = { kind, name, key, refs: 0, pinned: false, value: undefined as never, loaded: false };
  cache.set(key, entry);
  let value: MaybePromise<EngineKinds[EngineKind]>;
  try {
    value = load(options);
  } catch (e) {
    cache.delete(key);
    throw e;
  }
  if (isPromise(value)) {
    entry.value = value.then(
      (engine) => {
        entry.value = engine;
        entry.loaded = true;
        return engine;
      },
      (e: unknown) => {
        // A failed load is forgotten, so that a later subscription tries again (after the user installed the model).
        if (cache.get(key) === entry) cache.delete(key);
        throw e;
      },
    );
    // Marks the rejection handled: a stream that ends before its first item never awaits the engine.
    entry.value.catch(() => undefined);
  } else {
    entry.value = value;
    entry.loaded = true;
  }
  return entry;
}

function closeEntry(entry: Entry): Promise<void> {
  cache.delete(entry.key);
  return Promise.resolve(entry.value).then(
    (engine) => engine.close(),
    () => undefined,
  );
}

/**
 * Acquires the shared `kind` engine `name` with `options`, loading it on first use.
 * @throws {@link EngineUnavailableError} when no such engine is registered, or (synchronously) when a loader throws.
 */
export function acquireEngine<K extends EngineKind>(kind: K, name: string, options: EngineOptions = {}): EngineLease<K> {
  const entry = entryFor(kind, name, options);
  entry.refs++;
  let released = false;
  return {
    engine: entry.value as MaybePromise<EngineKinds[K]>,
    release() {
      if (released) return;
      released = true;
      entry.refs--;
      if (entry.refs === 0 && !entry.pinned && cache.get(entry.key) === entry) {
        // Closing is best effort: the releasing subscription has finished and has nobody to report to.
        void closeEntry(entry).catch(() => undefined);
      }
    },
  };
}

/** Loads engines now and keeps them loaded until {@link closeEngines} (an executor calls this at start-up). */
export async function preloadEngines(requests: readonly EngineRequest[]): Promise<void> {
  await Promise.all(
    requests.map(async (r) => {
      const entry = entryFor(r.kind, r.name, r.options ?? {});
      entry.pinned = true;
      await entry.value;
    }),
  );
}

/** Closes every cached engine, pinned or not (shutdown, tests). Streams still using one will fail. */
export async function closeEngines(): Promise<void> {
  await Promise.all([...cache.values()].map(closeEntry));
}

/** Snapshot of the engine cache. */
export function engineCacheStats(): EngineCacheEntryStats[] {
  return [...cache.values()].map((e) => ({ kind: e.kind, name: e.name, refs: e.refs, pinned: e.pinned, loaded: e.loaded }));
}
