/**
 * The client half of a proxy session: one `Session` call to one executor (pinned: the objects live there),
 * numbered requests, and the rule that nothing hangs. When the call drops, every pending request rejects at once
 * with the connection error; the next request reopens the call and resumes the session by id (the executor keeps
 * its objects for the reconnect TTL). Each request also has a deadline (`deadlineMs`).
 *
 * @internal
 */
import { Metadata, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { RemoteMediaError } from '../errors.js';
import type { Lease } from './channelPool.js';
import type { ResolvedRemoteConfig } from './config.js';
import type { Result, SessionOpened, SessionRequest, SessionResponse } from './gen/remotemedia.js';
import { errorFromStatus, errorFromWire } from './status.js';

/** A request body: exactly one of create, invoke or release. */
export type SessionRequestBody = Omit<SessionRequest, 'id' | 'open' | 'close'>;

interface Pending {
  readonly resolve: (value: Result) => void;
  readonly reject: (error: RemoteMediaError) => void;
  readonly timer: NodeJS.Timeout;
}

type Call = ClientDuplexStream<SessionRequest, SessionResponse>;

export class SessionChannel {
  private call: Call | undefined;
  private opening: Promise<SessionOpened> | undefined;
  private opened: SessionOpened | undefined;
  private sessionId = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(
    private readonly config: ResolvedRemoteConfig,
    private readonly lease: Lease,
  ) {}

  /** Executor address (for messages). */
  get address(): string {
    return this.lease.address;
  }

  /** Opens (or resumes) the session if no call is open; resolves with what the executor announced. */
  ensureOpen(): Promise<SessionOpened> {
    if (this.call !== undefined && this.opened !== undefined) return Promise.resolve(this.opened);
    return (this.opening ??= this.open().finally(() => (this.opening = undefined)));
  }

  /** Sends one request; resolves with its result or rejects with a RemoteMediaError (never hangs). */
  request(body: SessionRequestBody): Promise<Result> {
    if (this.closed) return Promise.reject(new RemoteMediaError('CANCELLED', `proxy session to ${this.address} is closed`));
    if (this.call !== undefined && this.opened !== undefined) return this.send(this.call, body);
    return this.ensureOpen().then(() => this.send(this.call!, body));
  }

  /** Sends `close` (the executor disposes the session at once) and waits briefly for the call to end. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const call = this.call;
    if (call !== undefined) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        call.once('status', () => {
          clearTimeout(timer);
          resolve();
        });
        call.write({ id: this.nextId++, close: {} });
        call.end();
      });
    }
    this.drop(new RemoteMediaError('CANCELLED', `proxy session to ${this.address} was closed`));
    this.lease.release();
  }

  private send(call: Call, body: SessionRequestBody): Promise<Result> {
    const id = this.nextId++;
    return new Promise<Result>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RemoteMediaError('DEADLINE_EXCEEDED', `proxy call to ${this.address}: no answer for ${this.config.deadlineMs} ms (deadlineMs)`));
      }, this.config.deadlineMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      call.write({ ...body, id });
    });
  }

  private async open(): Promise<SessionOpened> {
    if (this.closed) throw new RemoteMediaError('CANCELLED', `proxy session to ${this.address} is closed`);
    const metadata = new Metadata();
    if (this.config.token !== undefined) metadata.set('authorization', `Bearer ${this.config.token}`);
    const call: Call = this.lease.client.session(metadata);
    this.call = call;
    const openId = this.nextId++;
    const opened = new Promise<SessionOpened>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(openId);
        reject(new RemoteMediaError('DEADLINE_EXCEEDED', `proxy session to ${this.address}: no answer to open for ${this.config.deadlineMs} ms (deadlineMs)`));
        call.cancel();
      }, this.config.deadlineMs);
      timer.unref();
      this.pending.set(openId, { resolve: () => undefined, reject, timer });
      this.onOpened = (o) => {
        clearTimeout(timer);
        this.pending.delete(openId);
        resolve(o);
      };
    });
    call.on('data', (message: SessionResponse) => this.onMessage(call, message));
    call.on('error', (error: ServiceError) => this.lost(call, errorFromStatus(error, this.address)));
    call.on('end', () => this.lost(call, new RemoteMediaError('UNAVAILABLE', `proxy session to ${this.address}: the executor ended the session`)));
    call.write({ id: openId, open: { sessionId: this.sessionId } });
    const info = await opened;
    this.opened = info;
    this.sessionId = info.sessionId;
    return info;
  }

  private onOpened: ((opened: SessionOpened) => void) | undefined;

  private onMessage(call: Call, message: SessionResponse): void {
    if (call !== this.call) return;
    if (message.opened !== undefined) {
      this.onOpened?.(message.opened);
      this.onOpened = undefined;
      return;
    }
    if (message.error !== undefined && message.id === 0) {
      // The executor refused the call itself (auth, limits, shutdown): everything pending fails with that reason.
      return this.lost(call, errorFromWire(message.error, this.address));
    }
    const pending = this.pending.get(message.id);
    if (pending === undefined) return;
    this.pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.error !== undefined) {
      const error = errorFromWire(message.error, this.address);
      // A failed resume means the objects are gone: a later request starts a fresh session.
      if (error.name === 'SessionNotFoundError' && message.error.message.startsWith('Session not found')) this.sessionId = '';
      pending.reject(error);
    } else pending.resolve(message.result ?? { value: Buffer.alloc(0), handle: '', done: false });
  }

  /** The call is gone: reject everything pending now; the session id is kept for a resume. */
  private lost(call: Call, error: RemoteMediaError): void {
    if (call !== this.call) return;
    this.call = undefined;
    this.opened = undefined;
    this.onOpened = undefined;
    this.drop(error);
  }

  private drop(error: RemoteMediaError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      clearTimeout(p.timer);
      p.reject(error);
    }
  }
}
