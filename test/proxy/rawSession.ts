/**
 * A raw `Session` call as an outsider would open one (a plain grpc-js client, no `connect()`): send any request,
 * read replies in order, and learn how the executor ended the call. For the hostile-input and limit tests.
 */
import { credentials, status as Status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { encodePayload } from '../../src/remote/codec.js';
import { InvokeOp, RemoteMediaClient, type SessionRequest, type SessionResponse } from '../../src/remote/gen/remotemedia.js';

export { InvokeOp, Status };

/** How a call ended: its gRPC status code and details. */
export interface CallEnd {
  readonly code: Status;
  readonly details: string;
}

export interface RawSession {
  readonly call: ClientDuplexStream<SessionRequest, SessionResponse>;
  send(request: SessionRequest): void;
  /** The next reply (in arrival order); rejects with the call's end if it ends first. */
  next(): Promise<SessionResponse>;
  /** Sends `open` and returns the session id. */
  open(sessionId?: string): Promise<string>;
  /** Sends `request` and waits for the reply carrying its id (replies to other ids are kept for `next`). */
  ask(request: SessionRequest): Promise<SessionResponse>;
  /** Resolves when the call ended, with its status. */
  readonly ended: Promise<CallEnd>;
  cancel(): void;
}

/** One gRPC client (one HTTP/2 connection) for many raw calls; close it when done. */
export function rawClient(address: string): RemoteMediaClient {
  return new RemoteMediaClient(address, credentials.createInsecure());
}

export function rawSession(client: RemoteMediaClient): RawSession {
  const call = client.session();
  const queue: SessionResponse[] = [];
  const waiting: Array<{ resolve: (r: SessionResponse) => void; reject: (e: CallEnd) => void }> = [];
  let end: CallEnd | undefined;
  const ended = new Promise<CallEnd>((resolve) => {
    call.on('error', (e: ServiceError) => {
      end ??= { code: e.code, details: e.details };
      resolve(end);
    });
    call.on('status', (s: { code: Status; details: string }) => {
      end ??= { code: s.code, details: s.details };
      resolve(end);
    });
  });
  void ended.then((e) => {
    for (const w of waiting.splice(0)) w.reject(e);
  });
  call.on('data', (r: SessionResponse) => {
    const w = waiting.shift();
    if (w === undefined) queue.push(r);
    else w.resolve(r);
  });
  const next = (): Promise<SessionResponse> => {
    const r = queue.shift();
    if (r !== undefined) return Promise.resolve(r);
    if (end !== undefined) return Promise.reject(end);
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
  const ask = async (request: SessionRequest): Promise<SessionResponse> => {
    call.write(request);
    const kept: SessionResponse[] = [];
    for (;;) {
      const r = await next();
      if (r.id === request.id) {
        queue.unshift(...kept);
        return r;
      }
      kept.push(r);
    }
  };
  return {
    call,
    send: (request) => void call.write(request),
    next,
    ask,
    async open(sessionId = '') {
      const r = await ask({ id: 1, open: { sessionId } });
      if (r.opened === undefined) throw new Error(`open refused: ${JSON.stringify(r.error)}`);
      return r.opened.sessionId;
    },
    ended,
    cancel: () => call.cancel(),
  };
}

/** A `create` request for a registered class. */
export function createRequest(id: number, className: string, args: unknown[] = []): SessionRequest {
  return { id, create: { className, code: '', exportName: '', args: encodePayload(args), state: Buffer.alloc(0) } };
}

/** An `invoke` CALL request. */
export function callRequest(id: number, objectId: string, name: string, args: unknown[] = []): SessionRequest {
  return { id, invoke: { objectId, op: InvokeOp.INVOKE_OP_CALL, name, args: encodePayload(args), batchSize: 0 } };
}
