/**
 * Wires the proxy `Session` RPC into an executor: the object registry with its limits, the isolate pool for
 * shipped code, auth, `--no-proxies` / `--no-code`, and shutdown. `server.ts` only plugs it in.
 *
 * @module
 */
import type { Metadata, ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ErrorCode } from '../src/errors.js';
import { KeyedCounts } from '../src/internal/keyedCounts.js';
import type { SessionRequest, SessionResponse } from '../src/remote/gen/remotemedia.js';
import { errorDataToWire, statusDetails, statusForCode } from '../src/remote/status.js';
import { IsolatePool } from '../src/sandbox/isolatePool.js';
import { resetSandboxCaps, setSandboxCaps, setUserCodeEnabled } from '../src/sandbox/policy.js';
import { ObjectRegistry } from './objectsRegistry.js';
import type { ResolvedExecutorOptions } from './options.js';
import { peerHost } from './peer.js';
import { refusal, serveSession } from './sessionService.js';
import type { ExecutorStats } from './stats.js';

type SessionCall = ServerDuplexStream<SessionRequest, SessionResponse>;

/** The proxy side of an executor. */
export interface ProxyService {
  /** The `Session` handler. */
  session(call: SessionCall): void;
  /** Objects held right now (GetStatus `activeObjects`). */
  readonly objectCount: number;
  /** Ends every session call (UNAVAILABLE; each frees its `sessionCalls` count) and disposes all objects and idle isolates. */
  close(): Promise<void>;
}

export function createProxyService(opts: ResolvedExecutorOptions, stats: ExecutorStats, log: Logger, authorized: (m: Metadata) => boolean): ProxyService {
  // The executor's sandbox caps, process-wide: a codeNode's timeoutMs/memoryLimitMb/capabilities may only lower them.
  // First, so that a refused setting ('wasm') fails start-up before any other process-wide switch is flipped.
  setSandboxCaps({
    timeoutMs: opts.sandboxTimeoutMs,
    memoryLimitMb: opts.sandboxMemoryLimitMb,
    maxIsolates: opts.maxIsolates,
    maxIsolatesPerClient: opts.maxIsolatesPerClient,
    capabilities: opts.sandboxCapabilities,
  });
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
      maxPendingRequestsPerCall: opts.maxPendingRequestsPerCall,
    },
    (sessions) => {
      stats.activeSessions = sessions;
    },
  );
  const pool = new IsolatePool({ memoryLimitMb: opts.sandboxMemoryLimitMb });
  const calls = new Set<SessionCall>();
  // Open Session calls per client (peer IP), attached or awaiting their first message: `maxSessionCallsPerClient`.
  const callsByClient = new KeyedCounts<string>();
  const stacks = opts.errorStacks === 'always' || (opts.errorStacks === 'authenticated' && opts.token !== undefined);
  const refuse = (call: SessionCall, code: ErrorCode, message: string): void => reject(call, code, message, stacks);
  let closed = false;
  return {
    session(call) {
      if (!authorized(call.metadata)) return refuse(call, 'UNAUTHENTICATED', "missing or wrong 'authorization: Bearer <token>' metadata");
      if (closed || stats.draining) return refuse(call, 'UNAVAILABLE', 'executor is shutting down');
      if (!opts.proxies) return refuse(call, 'PROTOCOL', 'this executor does not serve object proxies (started with --no-proxies)');
      if (calls.size >= opts.maxSessionCalls) {
        stats.rejectedCalls++;
        return refuse(call, 'RESOURCE_EXHAUSTED', `executor is at its limit of ${opts.maxSessionCalls} open Session calls (maxSessionCalls)`);
      }
      const client = peerHost(call.getPeer());
      if (callsByClient.get(client) >= opts.maxSessionCallsPerClient) {
        stats.rejectedCalls++;
        return refuse(call, 'RESOURCE_EXHAUSTED', `client ${client} is at its limit of ${opts.maxSessionCallsPerClient} open Session calls (maxSessionCallsPerClient)`);
      }
      // Counted from arrival until the call is over on any path: 'cancelled' fires last on every one of them
      // (after our status, a client cancel, a dropped connection); 'end' and 'error' only free the slot sooner.
      calls.add(call);
      callsByClient.increment(client);
      stats.sessionCalls++;
      let counted = true;
      const forget = (): void => {
        if (!counted) return;
        counted = false;
        calls.delete(call);
        callsByClient.decrement(client);
        stats.sessionCalls--;
      };
      call.on('end', forget);
      call.on('cancelled', forget);
      call.on('error', forget);
      serveSession(call, {
        registry,
        pool,
        codeEnabled: opts.code,
        allowModules: opts.allowModules,
        sandboxTimeoutMs: opts.sandboxTimeoutMs,
        openTimeoutMs: opts.openTimeoutMs,
        maxPendingRequests: opts.maxPendingRequestsPerCall,
        stacks,
        log,
        onSandboxTimeout: () => stats.recordSandboxTimeout(),
        onOpenTimeout: () => stats.rejectedCalls++,
      });
    },
    get objectCount() {
      return registry.objectCount;
    },
    async close() {
      closed = true;
      for (const call of [...calls]) refuse(call, 'UNAVAILABLE', 'executor is shutting down');
      await registry.close();
      pool.close();
      if (!opts.code) setUserCodeEnabled(true);
      resetSandboxCaps();
    },
  };
}

/** Ends a call with an `error` (id 0: it concerns the call) and the matching status; `stacks` as for any error. */
function reject(call: SessionCall, code: ErrorCode, message: string, stacks: boolean): void {
  call.on('data', () => undefined);
  call.on('error', () => undefined);
  call.write({ id: 0, error: errorDataToWire(refusal(code, message), { stacks }) });
  call.emit('error', { code: statusForCode(code), details: statusDetails(message, { stacks }) });
}
