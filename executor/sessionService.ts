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
import { errorToData, RemoteMediaError, SandboxLimitError } from '../src/errors.js';
import { decodePayload, encodePayload } from '../src/remote/codec.js';
import { InvokeOp, type CreateObject, type Invoke, type SessionRequest, type SessionResponse } from '../src/remote/gen/remotemedia.js';
import { errorDataToWire, statusForCode } from '../src/remote/status.js';
import type { IsolatePool } from '../src/sandbox/isolatePool.js';
import { registeredClass } from './classes.js';
import { HostObject, SandboxObject, type CallResult, type RemoteObject } from './objects.js';
import type { ObjectRegistry, ProxySession } from './objectsRegistry.js';

/** What a session call needs from its executor. */
export interface SessionServiceContext {
  readonly registry: ObjectRegistry;
  readonly pool: IsolatePool;
  readonly codeEnabled: boolean;
  readonly allowModules: readonly string[];
  readonly sandboxTimeoutMs: number;
  readonly log: Logger;
  /** Called for every call stopped by the sandbox time limit (GetStatus `sandboxTimeouts`). */
  readonly onSandboxTimeout: () => void;
}

type Call = ServerDuplexStream<SessionRequest, SessionResponse>;

/** Serves one Session call until it ends. */
export function serveSession(call: Call, ctx: SessionServiceContext): void {
  let session: ProxySession | undefined;
  let ended = false;
  const client = peerHost(call.getPeer());
  const reply = (message: SessionResponse): void => {
    if (!ended) call.write(message);
  };
  const replyError = (id: number, error: unknown, node?: string): void => {
    if (error instanceof SandboxLimitError && error.code === 'DEADLINE_EXCEEDED') ctx.onSandboxTimeout();
    reply({ id, error: errorDataToWire(errorToData(error, node)) });
  };
  const fail = (id: number, error: unknown): void => {
    const data = errorToData(error);
    replyError(id, error);
    ended = true;
    call.emit('error', { code: statusForCode(data.code), details: data.message });
  };

  call.on('data', (request: SessionRequest) => {
    if (ended) return;
    const { id } = request;
    if (session === undefined) {
      if (request.open === undefined) return fail(id, new RemoteMediaError('PROTOCOL', 'protocol: the first Session message must be open'));
      try {
        session = request.open.sessionId === '' ? ctx.registry.open(client) : ctx.registry.resume(request.open.sessionId);
      } catch (e) {
        return fail(id, e);
      }
      ctx.log.debug({ session: session.id, client, resumed: request.open.sessionId !== '' }, 'proxy session attached');
      const { sessionTtlMs } = ctx.registry.limits;
      return reply({ id, opened: { sessionId: session.id, allowModules: [...ctx.allowModules], codeEnabled: ctx.codeEnabled, ttlMs: sessionTtlMs } });
    }
    const current = session;
    if (request.close !== undefined) {
      ended = true;
      void ctx.registry.dispose(current).then(() => call.end());
      return;
    }
    let work: Promise<SessionResponse['result']>;
    if (request.create !== undefined) work = create(current, request.create, ctx);
    else if (request.invoke !== undefined) work = invoke(current, request.invoke, ctx.registry.limits.maxIteratorsPerObject);
    else if (request.release !== undefined) work = current.release(request.release.objectId).then(() => ({ value: Buffer.alloc(0), handle: '', done: false }));
    else return fail(id, new RemoteMediaError('PROTOCOL', 'protocol: a session is already open on this call'));
    work.then(
      (result) => reply({ id, result }),
      (e: unknown) => replyError(id, e, labelOf(current, request)),
    );
  });
  const drop = (): void => {
    ended = true;
    session?.detach(ctx.registry.limits.sessionTtlMs);
  };
  // Without a close message, an ending call is a dropped one: the objects wait for a reconnect.
  call.on('end', () => {
    drop();
    call.end();
  });
  call.on('cancelled', drop);
  call.on('error', drop);
}

async function create(session: ProxySession, request: CreateObject, ctx: SessionServiceContext): Promise<SessionResponse['result']> {
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
    const sandbox = await ctx.pool.createSandbox({ label, timeoutMs: ctx.sandboxTimeoutMs });
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

/** `ipv4:1.2.3.4:5678`, `[::1]:5678` or `1.2.3.4:5678` → the host part: clients are counted per address. */
function peerHost(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, '');
  const i = bare.lastIndexOf(':');
  return (i > 0 ? bare.slice(0, i) : bare).replace(/^\[|\]$/g, '');
}
