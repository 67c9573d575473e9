/**
 * `startExecutor()`: the gRPC server that runs node chains for `remote()` clients. It serves the `RemoteMedia`
 * service (Stream, ListNodes, GetStatus), the standard health service and server reflection.
 *
 * @module
 */
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { Server, ServerCredentials, status as Status, type ServerDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { pathToFileURL } from 'node:url';
import { resolve as resolvePath } from 'node:path';
import { pino, type Logger } from 'pino';
import { config as rxjsConfig } from 'rxjs';
import { preloadEngines, type EngineRequest } from '../src/engines/index.js';
import { errorToData, RemoteMediaError, type ErrorCode } from '../src/errors.js';
import { KeyedCounts } from '../src/internal/keyedCounts.js';
import { listNodes } from '../src/node.js';
import { RemoteMediaService, type GetStatusResponse, type RemoteMediaServer, type StreamMessage } from '../src/remote/gen/remotemedia.js';
import { errorDataToWire, statusDetails, statusForCode, type WireErrorOptions } from '../src/remote/status.js';
import { bearerChecker } from './auth.js';
import { lenientService } from './lenientService.js';
import { resolveExecutorOptions, type ExecutorOptions, type ResolvedExecutorOptions } from './options.js';
import { packageFile, packageVersion } from './packageFiles.js';
import { peerHost } from './peer.js';
import { createMetricsRegistry, startMetricsServer, type MetricsServer } from './metrics.js';
import { createProxyService, type ProxyService } from './sessionServer.js';
import { ExecutorStats } from './stats.js';
import { StreamSession } from './streamSession.js';

/** Fully qualified name of the service, as health checks and reflection list it. */
export const SERVICE_NAME = 'remotemedia.v1.RemoteMedia';

/** A running executor. */
export interface Executor {
  /** The bound port (the real one when `port: 0` was asked). */
  readonly port: number;
  /** `host:port` to pass to `remote({ address })`. */
  readonly address: string;
  /** `http://host:port/metrics` when `metricsPort` was given. */
  readonly metricsUrl?: string;
  /** The same counters `GetStatus` returns, read in-process. */
  status(): GetStatusResponse;
  /**
   * Drains and stops: stops accepting streams (health NOT_SERVING), lets open streams finish for up to
   * `shutdownGraceMs`, then cancels the rest with UNAVAILABLE. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Starts an executor.
 * @example
 * ```ts
 * const executor = await startExecutor({ port: 0 });
 * frames$.pipe(remote({ address: executor.address }, audioBuffer({ samples: 1600 })));
 * await executor.close();
 * ```
 */
export async function startExecutor(options: ExecutorOptions = {}): Promise<Executor> {
  const opts = resolveExecutorOptions(options);
  await import('./builtins.js');
  for (const module of opts.modules) await import(moduleUrl(module));
  await preloadEngines(opts.preload.map(engineRequest));
  const log = createLogger(opts);
  const stats = new ExecutorStats(packageVersion());
  const sessions = new Set<StreamSession>();
  /** Open Stream calls per client (peer IP), for maxStreamsPerClient. */
  const streamsByClient = new KeyedCounts<string>();
  let streamIds = 0;
  // Stacks and paths only to callers who proved themselves (or when the operator says so): see errorStacks.
  const wire: WireErrorOptions = { stacks: opts.errorStacks === 'always' || (opts.errorStacks === 'authenticated' && opts.token !== undefined) };
  const authorized = bearerChecker(opts.token);
  let proxies: ProxyService;
  try {
    proxies = createProxyService(opts, stats, log, authorized);
  } catch (e) {
    stats.stop();
    throw e;
  }
  // A start-up that fails after this point leaves nothing behind: no listener, no sandbox caps, no monitor.
  const abandon = async (e: unknown): Promise<never> => {
    server.forceShutdown();
    await proxies.close();
    stats.stop();
    throw e;
  };
  const health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
  const server = new Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes,
    'grpc.max_send_message_length': -1,
    // Pings find clients that stopped or vanished without closing (half-open TCP): their calls end, sessions detach.
    'grpc.keepalive_time_ms': opts.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': opts.keepaliveTimeoutMs,
    'grpc.max_concurrent_streams': opts.maxCallsPerConnection,
  });

  const unauthenticated: Partial<ServiceError> = { code: Status.UNAUTHENTICATED, details: "missing or wrong 'authorization: Bearer <token>' metadata" };
  const service: RemoteMediaServer = {
    stream(call) {
      if (!authorized(call.metadata)) return rejectStream(call, 'UNAUTHENTICATED', unauthenticated.details!, wire);
      if (stats.draining) return rejectStream(call, 'UNAVAILABLE', 'executor is shutting down', wire);
      if (sessions.size >= opts.maxStreams) {
        stats.rejectedStreams++;
        return rejectStream(call, 'RESOURCE_EXHAUSTED', `executor is at its limit of ${opts.maxStreams} concurrent streams (maxStreams)`, wire);
      }
      const client = peerHost(call.getPeer());
      if (streamsByClient.get(client) >= opts.maxStreamsPerClient) {
        stats.rejectedCalls++;
        return rejectStream(call, 'RESOURCE_EXHAUSTED', `client is at its limit of ${opts.maxStreamsPerClient} concurrent streams (maxStreamsPerClient)`, wire);
      }
      streamsByClient.increment(client);
      const session = new StreamSession(call, {
        stats,
        maxWindow: opts.maxWindow,
        idleTimeoutMs: opts.idleTimeoutMs,
        maxNodes: opts.maxNodes,
        maxParamsBytes: opts.maxParamsBytes,
        maxNodeTypeLength: opts.maxNodeTypeLength,
        openTimeoutMs: opts.openTimeoutMs,
        maxMessageBytes: opts.maxMessageBytes,
        maxStreamBufferBytes: opts.maxStreamBufferBytes,
        stacks: wire.stacks ?? false,
        log: log.child({ stream: ++streamIds, peer: call.getPeer() }),
        onClosed: (s) => {
          if (sessions.delete(s)) streamsByClient.decrement(client);
        },
      });
      sessions.add(session);
    },
    listNodes(call, callback) {
      if (!authorized(call.metadata)) return callback(unauthenticated);
      const nodes = listNodes().map((n) => ({ ...n, paramsSchemaJson: JSON.stringify(n.paramsSchema) }));
      callback(null, { nodes });
    },
    getStatus(call, callback) {
      if (!authorized(call.metadata)) return callback(unauthenticated);
      callback(null, { ...stats.snapshot(), activeObjects: proxies.objectCount });
    },
    session: (call) => proxies.session(call),
  };
  server.addService(lenientService(RemoteMediaService), service);
  health.addToServer(server);
  if (opts.reflection) new ReflectionService(loadSync(packageFile('proto/remotemedia.proto'))).addToServer(server);

  const host = opts.host.includes(':') && !opts.host.startsWith('[') ? `[${opts.host}]` : opts.host;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${opts.port}`, serverCredentials(opts), (error, bound) =>
      error ? reject(new RemoteMediaError('UNAVAILABLE', `executor: cannot bind ${host}:${opts.port}: ${error.message}`, { cause: error })) : resolve(bound),
    ),
  ).catch(abandon);
  const address = `${host}:${port}`;
  let metrics: MetricsServer | undefined;
  if (opts.metricsPort !== undefined) {
    try {
      metrics = await startMetricsServer(createMetricsRegistry(stats), opts.metricsHost ?? opts.host, opts.metricsPort);
    } catch (e) {
      await abandon(e);
    }
  }
  const restoreRxjs = keepRxjsErrorsInProcess(log);
  log.info({ address, metrics: metrics?.url, tls: opts.tls !== undefined, auth: opts.token !== undefined, nodes: listNodes().length }, 'executor listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      stats.draining = true;
      stats.stop();
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(SERVICE_NAME, 'NOT_SERVING');
      void proxies.close();
      log.info({ open: sessions.size, graceMs: opts.shutdownGraceMs }, 'executor draining');
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(graceTimer);
        log.info({ totalStreams: stats.totalStreams }, 'executor stopped');
        restoreRxjs();
        void (metrics?.close() ?? Promise.resolve()).then(resolve);
      };
      const graceTimer = setTimeout(() => {
        for (const session of [...sessions]) session.fail(new RemoteMediaError('UNAVAILABLE', `executor shut down (streams still open after ${opts.shutdownGraceMs} ms grace)`));
        // Give the error messages a moment to leave before connections are cut.
        setTimeout(() => {
          server.forceShutdown();
          finish();
        }, 100).unref();
      }, opts.shutdownGraceMs);
      server.tryShutdown(finish);
    }));

  return { port, address, ...(metrics && { metricsUrl: metrics.url }), status: () => ({ ...stats.snapshot(), activeObjects: proxies.objectCount }), close };
}

/** Ends a call that never became a session: the `Error` message, then the matching status (both bounded). */
function rejectStream(call: ServerDuplexStream<StreamMessage, StreamMessage>, code: ErrorCode, message: string, wire: WireErrorOptions): void {
  call.on('data', () => undefined);
  call.on('error', () => undefined);
  call.write({ error: errorDataToWire(errorToData(new RemoteMediaError(code, message)), wire) });
  call.emit('error', { code: statusForCode(code), details: statusDetails(message, wire) });
}

/**
 * RxJS reports an error it cannot deliver (one thrown inside an observer's own callback, e.g. a RangeError when a
 * chain is too deep for the stack) by throwing it from a timer: an uncaught exception that would end the executor
 * and every stream in it. While an executor runs, such errors are logged instead (unless the host installed its own
 * handler); the stream concerned ends by its idle timeout or its client. Returns the undo.
 */
function keepRxjsErrorsInProcess(log: Logger): () => void {
  if (rxjsConfig.onUnhandledError !== null) return () => undefined;
  const handler = (error: unknown): void => log.error({ err: error instanceof Error ? error.message : String(error) }, 'undeliverable error in a chain');
  rxjsConfig.onUnhandledError = handler;
  return () => {
    if (rxjsConfig.onUnhandledError === handler) rxjsConfig.onUnhandledError = null;
  };
}

function serverCredentials(opts: ResolvedExecutorOptions): ServerCredentials {
  if (opts.tls === undefined) return ServerCredentials.createInsecure();
  const { cert, key, ca } = opts.tls;
  return ServerCredentials.createSsl(ca === undefined ? null : Buffer.from(ca), [{ cert_chain: Buffer.from(cert), private_key: Buffer.from(key) }], ca !== undefined);
}

function moduleUrl(module: string): string {
  return module.startsWith('.') || module.startsWith('/') ? pathToFileURL(resolvePath(module)).href : module;
}

function createLogger(opts: ResolvedExecutorOptions): Logger {
  const level = opts.logLevel ?? process.env['REMOTEMEDIA_LOG_LEVEL'] ?? 'info';
  // stderr: stdout is kept for the CLI's machine-readable "listening" line.
  return pino({ level, base: { service: 'remotemedia-executor', pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}


/** 'stt:pocketsphinx' → { kind: 'stt', name: 'pocketsphinx' } (the option schema checked the form). */
function engineRequest(entry: string): EngineRequest {
  const [kind, name] = entry.split(':') as [EngineRequest['kind'], string];
  return { kind, name };
}
