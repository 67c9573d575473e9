/**
 * One `Session` call on the executor: the first message opens a new proxy session or resumes one (within its
 * reconnect TTL); then create / invoke / release requests, each answered with a result or an error carrying the
 * request id. Requests run concurrently; a shipped object's calls run in its isolate's thread, so a runaway call
 * never blocks the executor's event loop.
 *
 * A `close` message closes the session (objects disposed at once, then the call ends). A call that ends or drops
 * without it (cancelled, network error) detaches the session: its objects wait `sessionTtlMs` for a reconnect, then
 * are disposed.
 *
 * @module
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { errorToData, RemoteMediaError, SandboxLimitError, type ErrorCode, type ErrorData } from '../src/errors.js';
import { decodePayload, encodePayload } from '../src/remote/codec.js';
import { InvokeOp, type CreateObject, type Invoke, type SessionRequest, type SessionResponse } from '../src/remote/gen/remotemedia.js';
import { errorDataToWire, statusDetails, statusForCode } from '../src/remote/status.js';
import type { IsolatePool } from '../src/sandbox/isolatePool.js';
import { withSandboxOwner } from '../src/sandbox/policy.js';
import { registeredClass } from './classes.js';
import { isMalformed, malformedReason } from './lenientService.js';
import { HostObject, SandboxObject, type CallResult, type RemoteObject } from './objects.js';
import type { ObjectRegistry, ProxySession, SessionOwner } from './objectsRegistry.js';
import { peerHost } from './peer.js';

/** What a session call needs from its executor. */
export interface SessionServiceContext {
  readonly registry: ObjectRegistry;
  readonly pool: IsolatePool;
  readonly codeEnabled: boolean;
  readonly allowModules: readonly string[];
  readonly sandboxTimeoutMs: number;
  /** A call that sends no `open` this long is ended with DEADLINE_EXCEEDED, ms (option `openTimeoutMs`). */
  readonly openTimeoutMs: number;
  /** Requests of one call being worked on at once; one more is answered RESOURCE_EXHAUSTED (option `maxPendingRequestsPerCall`). */
  readonly maxPendingRequests: number;
  /** Send error stacks and unredacted paths to this caller (option `errorStacks`). */
  readonly stacks: boolean;
  readonly log: Logger;
  /** Called for every call stopped by the sandbox time limit (GetStatus `sandboxTimeouts`). */
  readonly onSandboxTimeout: () => void;
  /** Called when a call is ended for sending no `open` in time (GetStatus `rejectedCalls`). */
  readonly onOpenTimeout: () => void;
}

type Call = ServerDuplexStream<SessionRequest, SessionResponse>;

/** Serves one Session call until it ends. */
export function serveSession(call: Call, ctx: SessionServiceContext): void {
  let session: ProxySession | undefined;
  let ended = false;
  let pending = 0;
  let writeBlocked = false;
  const client = peerHost(call.getPeer());
  const wire = { stacks: ctx.stacks };
  const reply = (message: SessionResponse): void => {
    if (ended) return;
    // A client that does not read its replies stops being read: what it can make us buffer is bounded by the
    // pending-request limit plus the stream's write buffer, not by how much it sends.
    if (!call.write(message) && !writeBlocked) {
      writeBlocked = true;
      call.pause();
      call.once('drain', () => {
        writeBlocked = false;
        if (!ended) call.resume();
      });
    }
  };
  const replyError = (id: number, error: unknown, node?: string): void => {
    if (error instanceof SandboxLimitError && error.code === 'DEADLINE_EXCEEDED') ctx.onSandboxTimeout();
    reply({ id, error: errorDataToWire(isErrorData(error) ? error : errorToData(error, node), wire) });
  };
  /** Ends the call: the error (with `id`, 0 when it concerns the call itself), then the matching status. */
  const fail = (id: number, error: unknown): void => {
    if (ended) return;
    const data = isErrorData(error) ? error : errorToData(error);
    replyError(id, data);
    finish();
    call.emit('error', { code: statusForCode(data.code), details: statusDetails(data.message, wire) });
  };
  const owner: SessionOwner = {
    evict: () => fail(0, refusal('PROTOCOL', 'session resumed on another call; this call is closed')),
  };
  const openTimer = setTimeout(() => {
    if (session !== undefined || ended) return;
    ctx.onOpenTimeout();
    fail(0, refusal('DEADLINE_EXCEEDED', `no open message within ${ctx.openTimeoutMs} ms (openTimeoutMs)`));
  }, ctx.openTimeoutMs);
  openTimer.unref();
  /** The call is over for us: no more replies, and the session (if this call still owns it) waits for a reconnect. */
  const finish = (): void => {
    ended = true;
    clearTimeout(openTimer);
    session?.detach(owner, ctx.registry.limits.sessionTtlMs);
  };

  call.on('data', (request: SessionRequest) => {
    if (ended) return;
    if (isMalformed(request)) return fail(0, refusal('INVALID_INPUT', `protocol: a message is not a valid SessionRequest (${malformedReason(request)})`));
    const { id } = request;
    if (session === undefined) {
      clearTimeout(openTimer);
      if (request.open === undefined) return fail(id, refusal('PROTOCOL', 'protocol: the first Session message must be open'));
      const resumed = request.open.sessionId !== '';
      try {
        session = resumed ? ctx.registry.resume(request.open.sessionId, owner) : ctx.registry.open(client, owner);
      } catch (e) {
        return fail(id, e);
      }
      ctx.log.debug({ session: session.id, client, resumed }, 'proxy session attached');
      const { sessionTtlMs } = ctx.registry.limits;
      return reply({ id, opened: { sessionId: session.id, allowModules: [...ctx.allowModules], codeEnabled: ctx.codeEnabled, ttlMs: sessionTtlMs } });
    }
    const current = session;
    if (request.close !== undefined) {
      ended = true;
      void ctx.registry.dispose(current).then(() => call.end());
      return;
    }
    if (request.create === undefined && request.invoke === undefined && request.release === undefined) {
      return fail(id, refusal('PROTOCOL', 'protocol: a session is already open on this call'));
    }
    if (pending >= ctx.maxPendingRequests) {
      return replyError(id, refusal('RESOURCE_EXHAUSTED', `this call is at its limit of ${ctx.maxPendingRequests} pending requests (maxPendingRequestsPerCall); wait for answers first`));
    }
    let work: Promise<SessionResponse['result']>;
    if (request.create !== undefined) work = create(current, request.create, ctx, client);
    else if (request.invoke !== undefined) work = invoke(current, request.invoke, ctx.registry.limits.maxIteratorsPerObject);
    else work = current.release(request.release!.objectId).then(() => ({ value: Buffer.alloc(0), handle: '', done: false }));
    pending++;
    work.then(
      (result) => {
        pending--;
        reply({ id, result });
      },
      (e: unknown) => {
        pending--;
        replyError(id, e, labelOf(current, request));
      },
    );
  });
  // Without a close message, an ending call is a dropped one: the objects wait for a reconnect.
  call.on('end', () => {
    finish();
    call.end();
  });
  call.on('cancelled', finish);
  call.on('error', finish);
}

/**
 * A refusal by the executor itself, as error data. Not an `Error`: a hostile client can trigger refusals by the
 * thousand, and capturing and formatting a stack for each (source-mapped under tsx) costs ~0.1 ms of event loop.
 */
export function refusal(code: ErrorCode, message: string): ErrorData {
  return { name: 'RemoteMediaError', code, message };
}

function isErrorData(value: unknown): value is ErrorData {
  return typeof value === 'object' && value !== null && !(value instanceof Error) && typeof (value as ErrorData).code === 'string';
}

async function create(session: ProxySession, request: CreateObject, ctx: SessionServiceContext, client: string): Promise<SessionResponse['result']> {
  const args = request.args.length === 0 ? [] : decodePayload(request.args);
  if (!Array.isArray(args)) throw new RemoteMediaError('INVALID_INPUT', 'create: args must be a msgpack array');
  const handle = await session.add(async (): Promise<RemoteObject> => {
    if (request.className !== '') {
      const Class = registeredClass(request.className);
      if (Class === undefined) throw new RemoteMediaError('UNKNOWN_NODE', `no class registered as '${request.className}' on this executor`);
      return new HostObject(request.className, Reflect.construct(Class, args) as Record<string, unknown>);
    }
    if (!ctx.codeEnabled) throw new RemoteMediaError('PROTOCOL', 'this executor does not run shipped code (started with --no-code)');
    const label = request.exportName === '' ? 'shipped' : request.exportName;
    // Counted for this client (maxIsolatesPerClient) until the object is released.
    const sandbox = await withSandboxOwner(client, () => ctx.pool.createSandbox({ label, timeoutMs: ctx.sandboxTimeoutMs }));
    try {
      await sandbox.load(request.code, `${label}.js`);
      const state = request.state.length === 0 ? undefined : (decodePayload(request.state) as Record<string, unknown>);
      await sandbox.create(request.exportName, args, state);
    } catch (e) {
      await sandbox.dispose();
      throw e;
    }
    return new SandboxObject(label, sandbox);
  });
  return { value: Buffer.alloc(0), handle, done: false };
}

async function invoke(session: ProxySession, request: Invoke, maxIterators: number): Promise<SessionResponse['result']> {
  const entry = session.entry(request.objectId);
  const { object } = entry;
  const iterator = (): number => {
    const n = Number(request.name);
    if (!entry.iterators.has(n)) throw new RemoteMediaError('PROTOCOL', `${object.label}: iterator '${request.name}' not found (finished, closed or never opened)`);
    return n;
  };
  switch (request.op) {
    case InvokeOp.INVOKE_OP_CALL: {
      const args = request.args.length === 0 ? [] : decodePayload(request.args);
      if (!Array.isArray(args)) throw new RemoteMediaError('INVALID_INPUT', `${object.label}.${request.name}: args must be a msgpack array`);
      return toResult(await object.call(request.name, args), entry, session, maxIterators);
    }
    case InvokeOp.INVOKE_OP_GET:
      return toResult(await object.get(request.name), entry, session, maxIterators);
    case InvokeOp.INVOKE_OP_NEXT: {
      const id = iterator();
      const { items, done } = await object.next(id, Math.max(1, Math.min(request.batchSize || 16, 1024)));
      if (done) entry.iterators.delete(id);
      return { value: encodePayload(items), handle: '', done };
    }
    case InvokeOp.INVOKE_OP_RETURN: {
      const id = Number(request.name);
      entry.iterators.delete(id);
      await object.return(id);
      return { value: Buffer.alloc(0), handle: '', done: true };
    }
    default:
      throw new RemoteMediaError('PROTOCOL', `protocol: unknown invoke op ${String(request.op)}`);
  }
}

async function toResult(result: CallResult, entry: Parameters<ProxySession['trackIterator']>[0], session: ProxySession, maxIterators: number): Promise<SessionResponse['result']> {
  if ('iterator' in result) {
    await session.trackIterator(entry, result.iterator, maxIterators);
    return { value: Buffer.alloc(0), handle: String(result.iterator), done: false };
  }
  return { value: encodePayload(result.value), handle: '', done: false };
}

function labelOf(session: ProxySession, request: SessionRequest): string | undefined {
  if (request.invoke !== undefined) {
    const label = session.objects.get(request.invoke.objectId)?.object.label;
    return label === undefined ? undefined : `${label}.${request.invoke.name}`;
  }
  if (request.create !== undefined) return request.create.className || request.create.exportName || 'shipped';
  return undefined;
}

