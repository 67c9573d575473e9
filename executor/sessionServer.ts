/**
 * Wires the proxy `Session` RPC into an executor: the object registry with its limits, the isolate pool for
 * shipped code, auth, `--no-proxies` / `--no-code`, and shutdown. `server.ts` only plugs it in.
 *
 * @module
 */
import type { Metadata, ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { errorToData, RemoteMediaError, type ErrorCode } from '../src/errors.js';
import type { SessionRequest, SessionResponse } from '../src/remote/gen/remotemedia.js';
import { errorDataToWire, statusForCode } from '../src/remote/status.js';
import { IsolatePool } from '../src/sandbox/isolatePool.js';
import { setUserCodeEnabled } from '../src/sandbox/policy.js';
import { ObjectRegistry } from './objectsRegistry.js';
import type { ResolvedExecutorOptions } from './options.js';
import { serveSession } from './sessionService.js';
import type { ExecutorStats } from './stats.js';

type SessionCall = ServerDuplexStream<SessionRequest, SessionResponse>;

/** The proxy side of an executor. */
export interface ProxyService {
  /** The `Session` handler. */
  session(call: SessionCall): void;
  /** Objects held right now (GetStatus `activeObjects`). */
  readonly objectCount: number;
  /** Ends every session call (UNAVAILABLE) and disposes all objects and idle isolates. */
  close(): Promise<void>;
}

export function createProxyService(opts: ResolvedExecutorOptions, stats: ExecutorStats, log: Logger, authorized: (m: Metadata) => boolean): ProxyService {
  // codeNode chains check this process-wide switch when they are built (the node model knows no executor).
  if (!opts.code) setUserCodeEnabled(false);
  const registry = new ObjectRegistry(
    {
      maxSessions: opts.maxSessions,
      maxSessionsPerClient: opts.maxSessionsPerClient,
      maxObjects: opts.maxObjects,
      maxObjectsPerClient: opts.maxObjectsPerClient,
      maxIteratorsPerObject: opts.maxIteratorsPerObject,
      sessionTtlMs: opts.sessionTtlMs,
    },
    (sessions) => {
      stats.activeSessions = sessions;
    },
  );
  const pool = new IsolatePool({ memoryLimitMb: opts.sandboxMemoryLimitMb });
  const calls = new Set<SessionCall>();
  let closed = false;
  return {
    session(call) {
      if (!authorized(call.metadata)) return reject(call, 'UNAUTHENTICATED', "missing or wrong 'authorization: Bearer <token>' metadata");
      if (closed || stats.draining) return reject(call, 'UNAVAILABLE', 'executor is shutting down');
      if (!opts.proxies) return reject(call, 'PROTOCOL', 'this executor does not serve object proxies (started with --no-proxies)');
      calls.add(call);
      const forget = (): void => void calls.delete(call);
      call.on('end', forget);
      call.on('cancelled', forget);
      call.on('error', forget);
      serveSession(call, {
        registry,
        pool,
        codeEnabled: opts.code,
        allowModules: opts.allowModules,
        sandboxTimeoutMs: opts.sandboxTimeoutMs,
        log,
        onSandboxTimeout: () => stats.recordSandboxTimeout(),
      });
    },
    get objectCount() {
      return registry.objectCount;
    },
    async close() {
      closed = true;
      for (const call of [...calls]) reject(call, 'UNAVAILABLE', 'executor is shutting down');
      calls.clear();
      await registry.close();
      pool.close();
      if (!opts.code) setUserCodeEnabled(true);
    },
  };
}

function reject(call: SessionCall, code: ErrorCode, message: string): void {
  call.on('data', () => undefined);
  call.on('error', () => undefined);
  call.write({ id: 0, error: errorDataToWire(errorToData(new RemoteMediaError(code, message))) });
  call.emit('error', { code: statusForCode(code), details: message });
}
