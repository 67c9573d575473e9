/**
 * Proxy sessions and the objects they own, with the limits of DESIGN §4 (each bounds a threat, each tested at N
 * and N+1 in test/proxy/limits.spec.ts):
 * - `maxSessions` / `maxSessionsPerClient`: many sessions exhausting memory; a client is a peer IP address.
 * - `maxObjects` / `maxObjectsPerClient`: one client filling the executor with objects (each shipped object holds
 *   an isolate context).
 * - `maxIteratorsPerObject`: open remote generators piling up on one object.
 * - `sessionTtlMs`: a dropped session keeps its objects this long for a reconnect, then they are disposed.
 * - `maxPendingRequestsPerCall`: requests one Session call has in progress at once; a client pipelining without
 *   waiting for answers cannot pile up work and replies without bound. One more is answered RESOURCE_EXHAUSTED.
 *
 * A session belongs to at most one call at a time (its {@link SessionOwner}). A call that resumes a session still
 * held by another call takes it over and the old call is evicted; only the owning call's end detaches the session,
 * so a late end of the old call can never start the TTL on objects a live call is using.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { RemoteMediaError, SessionNotFoundError } from '../src/errors.js';
import { KeyedCounts } from '../src/internal/keyedCounts.js';
import { truncateText } from '../src/remote/status.js';
import type { RemoteObject } from './objects.js';

/** Defaults of the proxy limits (executor options of the same names). */
export const DEFAULT_PROXY_LIMITS = {
  maxSessions: 256,
  maxSessionsPerClient: 32,
  maxObjects: 4096,
  maxObjectsPerClient: 1024,
  maxIteratorsPerObject: 64,
  sessionTtlMs: 30_000,
  maxPendingRequestsPerCall: 256,
} as const;

/** Proxy limits, all required here (the options schema fills defaults). */
export type ProxyLimits = { -readonly [K in keyof typeof DEFAULT_PROXY_LIMITS]: number };

/** The call a session is attached to. */
export interface SessionOwner {
  /** Another call resumed this session: end this call (its later end must not detach the session). */
  evict(): void;
}

interface Entry {
  readonly object: RemoteObject;
  readonly iterators: Set<number>;
}

/** One session: its objects, the call it is attached to, and the reconnect timer while none is. */
export class ProxySession {
  readonly objects = new Map<string, Entry>();
  private ttlTimer: NodeJS.Timeout | undefined;
  private owner: SessionOwner | undefined;
  disposed = false;

  constructor(
    readonly id: string,
    readonly client: string,
    private readonly registry: ObjectRegistry,
    owner: SessionOwner,
  ) {
    this.owner = owner;
  }

  /** True while a call holds the session. */
  get attached(): boolean {
    return this.owner !== undefined;
  }

  /** Checks the object limits, then creates and adds an object; a failed creation frees its slot again. */
  async add(create: () => Promise<RemoteObject>): Promise<string> {
    this.registry.reserveObject(this.client);
    let object: RemoteObject;
    try {
      object = await create();
    } catch (e) {
      this.registry.freeObject(this.client);
      throw e;
    }
    if (this.disposed) {
      // The session expired while the object was being built.
      this.registry.freeObject(this.client);
      await object.dispose().catch(() => undefined);
      throw new SessionNotFoundError('PROTOCOL', `Session not found: '${this.id}' (disposed while creating an object)`);
    }
    const id = this.registry.newObjectId();
    this.objects.set(id, { object, iterators: new Set() });
    return id;
  }

  /** The object `id`, or SessionNotFoundError naming it. */
  entry(id: string): Entry {
    const entry = this.objects.get(id);
    if (entry === undefined) throw new SessionNotFoundError('PROTOCOL', `Object not found: '${id}' in session '${this.id}' (released, expired or never created)`);
    return entry;
  }

  /** Records an iterator the object opened; over the limit it is closed at once and the call fails. */
  async trackIterator(entry: Entry, iterator: number, limit: number): Promise<void> {
    if (entry.iterators.size >= limit) {
      await entry.object.return(iterator).catch(() => undefined);
      throw new RemoteMediaError('RESOURCE_EXHAUSTED', `${entry.object.label}: at its limit of ${limit} open iterators (maxIteratorsPerObject); close one first`);
    }
    entry.iterators.add(iterator);
  }

  async release(id: string): Promise<void> {
    const entry = this.objects.get(id);
    if (entry === undefined) return;
    this.objects.delete(id);
    this.registry.freeObject(this.client);
    await entry.object.dispose().catch(() => undefined);
  }

  /**
   * The call `owner` went away: keep the objects for `ttlMs`, then dispose them. A call that no longer owns the
   * session (another call resumed it) detaches nothing.
   */
  detach(owner: SessionOwner, ttlMs: number): void {
    if (this.disposed || this.owner !== owner) return;
    this.owner = undefined;
    this.ttlTimer = setTimeout(() => void this.registry.dispose(this), ttlMs);
    this.ttlTimer.unref();
  }

  /** `owner` takes the session: the TTL stops, and a call still holding it is evicted. */
  attach(owner: SessionOwner): void {
    clearTimeout(this.ttlTimer);
    const previous = this.owner;
    this.owner = owner;
    if (previous !== undefined && previous !== owner) previous.evict();
  }

  async disposeObjects(): Promise<void> {
    clearTimeout(this.ttlTimer);
    this.disposed = true;
    this.owner = undefined;
    await Promise.all([...this.objects.keys()].map((id) => this.release(id)));
  }
}

/** All sessions of one executor, with per-executor and per-client counts. */
export class ObjectRegistry {
  private readonly sessions = new Map<string, ProxySession>();
  private readonly sessionsByClient = new KeyedCounts<string>();
  private readonly objectsByClient = new KeyedCounts<string>();
  private objects = 0;
  private lastObjectId = 0;

  constructor(
    readonly limits: ProxyLimits,
    /** Told the session count after it changed (GetStatus `activeSessions`). */
    private readonly onSessions: (sessions: number) => void = () => undefined,
  ) {}

  get sessionCount(): number {
    return this.sessions.size;
  }

  get objectCount(): number {
    return this.objects;
  }

  /** A new session for `client`, held by the call `owner`, or RESOURCE_EXHAUSTED naming the limit. */
  open(client: string, owner: SessionOwner): ProxySession {
    if (this.sessions.size >= this.limits.maxSessions) throw exhausted(`executor is at its limit of ${this.limits.maxSessions} proxy sessions (maxSessions)`);
    if (this.sessionsByClient.get(client) >= this.limits.maxSessionsPerClient) throw exhausted(`client ${client} is at its limit of ${this.limits.maxSessionsPerClient} proxy sessions (maxSessionsPerClient)`);
    const session = new ProxySession(randomUUID(), client, this, owner);
    this.sessions.set(session.id, session);
    this.sessionsByClient.increment(client);
    this.onSessions(this.sessions.size);
    return session;
  }

  /**
   * The session `id` for a reconnect by the call `owner` (a call still holding it is evicted), or
   * SessionNotFoundError naming it.
   */
  resume(id: string, owner: SessionOwner): ProxySession {
    const session = this.sessions.get(id);
    if (session === undefined || session.disposed) {
      throw new SessionNotFoundError(
        'PROTOCOL',
        `Session not found: '${truncateText(id, 64)}' (closed, expired after the ${this.limits.sessionTtlMs} ms reconnect TTL, or the executor restarted)`,
      );
    }
    session.attach(owner);
    return session;
  }

  /** Disposes a session and its objects (client closed it, or its TTL ran out). */
  async dispose(session: ProxySession): Promise<void> {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    this.sessionsByClient.decrement(session.client);
    this.onSessions(this.sessions.size);
    await session.disposeObjects();
  }

  /** Disposes every session (executor shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.dispose(s)));
  }

  /** @internal Ids are unique across sessions, so a stale proxy can never reach another session's object. */
  newObjectId(): string {
    return `o${++this.lastObjectId}`;
  }

  /** @internal */
  reserveObject(client: string): void {
    if (this.objects >= this.limits.maxObjects) throw exhausted(`executor is at its limit of ${this.limits.maxObjects} proxy objects (maxObjects)`);
    if (this.objectsByClient.get(client) >= this.limits.maxObjectsPerClient) throw exhausted(`client ${client} is at its limit of ${this.limits.maxObjectsPerClient} proxy objects (maxObjectsPerClient)`);
    this.objects++;
    this.objectsByClient.increment(client);
  }

  /** @internal */
  freeObject(client: string): void {
    this.objects--;
    this.objectsByClient.decrement(client);
  }
}

function exhausted(message: string): RemoteMediaError {
  return new RemoteMediaError('RESOURCE_EXHAUSTED', message);
}
