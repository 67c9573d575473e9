/**
 * Executor options: one zod schema, each field with its unit and default, and the security rule of DESIGN §4
 * (loopback by default; any other host needs a token unless `insecure: true` is explicit).
 *
 * @module
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { InvalidParamsError } from '../src/errors.js';
import { parseParams } from '../src/node.js';
import { DEFAULT_PROXY_LIMITS } from './objectsRegistry.js';

/**
 * Limits each executor applies, with the threat each one bounds.
 * - `maxStreams`: concurrent `Stream` calls; bounds memory and CPU taken by many clients. Call N+1 gets RESOURCE_EXHAUSTED.
 * - `maxMessageBytes`: size of one received gRPC message (an item's msgpack payload plus ~10 bytes of protobuf framing);
 *   bounds what one message can make the executor allocate. Larger messages get RESOURCE_EXHAUSTED.
 * - `maxWindow`: credits granted to one stream; bounds the items the executor holds per stream (a client asking more gets this many).
 * - `idleTimeoutMs`: a stream with no activity this long is closed (DEADLINE_EXCEEDED); activity is a message received
 *   from the client or a write the transport took from us, never a write merely queued. Frees pipelines of clients
 *   that vanished without closing their connection, and of clients that never read (whose outputs are then dropped).
 * - `shutdownGraceMs`: on `close()`, how long open streams may still finish before they are cancelled.
 * - `maxStreamsPerClient`: concurrent `Stream` calls from one client (peer IP address); one client cannot take every
 *   stream slot from the others. RESOURCE_EXHAUSTED beyond it.
 * - `maxNodes`: nodes in one chain; a long chain costs stack depth on subscribe/unsubscribe (a ~700-node chain once
 *   overflowed the stack in RxJS teardown). INVALID_ARGUMENT beyond it.
 * - `maxParamsBytes`: UTF-16 length of one node's `params_json` (shipped `codeNode` code lives here); bounds parse and
 *   validation work. INVALID_ARGUMENT beyond it.
 * - `maxNodeTypeLength`: length of a node type string; bounds what a client can make the executor echo back.
 * - `openTimeoutMs`: a `Stream` or `Session` call that sends no first message this long is closed
 *   (DEADLINE_EXCEEDED); idle calls cannot pile up.
 * - `maxSessionCallsPerClient`: `Session` calls open at once from one client, attached or awaiting their first
 *   message. RESOURCE_EXHAUSTED beyond it.
 * - `keepaliveTimeMs` / `keepaliveTimeoutMs`: the executor pings every connection this often and closes it when the
 *   ping is not answered in time, so a stopped or vanished client (half-open TCP) frees its calls and sessions.
 * - `maxIsolates`: isolated-vm isolates alive at once in the process (codeNode chains and shipped objects, in use or
 *   pooled); each can hold up to `sandboxMemoryLimitMb`. RESOURCE_EXHAUSTED beyond it.
 * - `maxIsolatesPerClient`: isolates in use at once for one client (shipped objects and `codeNode`s of its streams);
 *   one client holding every isolate (32 objects through one Session call, one Stream of 32 codeNodes) refused every
 *   other client's code. Also bounds the codeNodes one chain may run. RESOURCE_EXHAUSTED beyond it.
 * - `maxCallsPerConnection`: concurrent calls on one HTTP/2 connection (SETTINGS_MAX_CONCURRENT_STREAMS); a client
 *   opening thousands of calls in one burst makes the executor pay per-call set-up before any of our limits runs.
 *   Clients queue calls beyond it on their side.
 * - `maxSessionCalls`: Session calls open at once over all clients; the per-client limit alone does little against
 *   a client with many addresses. RESOURCE_EXHAUSTED beyond it.
 * - `maxStreamBufferBytes`: bytes one stream may hold, counted twice over. (1) Encoded outputs written and not yet taken
 *   by the transport (a client that sends and never reads; one item can make a 16 M-character string, and gRPC's
 *   16-message write buffer counts messages, not bytes): while over it the stream gets no credit and no queued input
 *   is pushed into its chain, as when write() reports a full buffer. (2) Received payloads not yet consumed by the
 *   chain (a client parking window × maxMessageBytes behind a slow chain): while over it no credit is granted and the
 *   call is not read (HTTP/2 flow control holds the client). An output item larger than maxMessageBytes fails the
 *   stream RESOURCE_EXHAUSTED (a default client could not receive it).
 */
export const DEFAULT_EXECUTOR_LIMITS = {
  maxStreams: 64,
  maxMessageBytes: 4 * 1024 * 1024,
  maxWindow: 1024,
  idleTimeoutMs: 60_000,
  shutdownGraceMs: 5_000,
  maxStreamsPerClient: 16,
  maxNodes: 64,
  maxParamsBytes: 1024 * 1024,
  maxNodeTypeLength: 128,
  openTimeoutMs: 10_000,
  maxSessionCallsPerClient: 64,
  keepaliveTimeMs: 30_000,
  keepaliveTimeoutMs: 10_000,
  maxIsolates: 32,
  maxIsolatesPerClient: 8,
  maxCallsPerConnection: 128,
  maxSessionCalls: 1024,
  maxStreamBufferBytes: 16 * 1024 * 1024,
} as const;

const pem = z.union([z.string(), z.instanceof(Uint8Array)]);

const ExecutorOptionsSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1').describe("Interface to bind. Default: '127.0.0.1' (loopback only)."),
    port: z.number().int().min(0).max(65535).default(50051).describe('TCP port; 0 picks a free one. Default: 50051.'),
    token: z
      .string()
      .min(16)
      .optional()
      .describe("Shared secret clients send as 'authorization: Bearer <token>'; at least 16 characters. Default: none (no auth)."),
    insecure: z
      .boolean()
      .default(false)
      .describe('Allow binding a non-loopback host without a token. Default: false.'),
    tls: z
      .object({
        cert: pem.describe('Server certificate chain, PEM.'),
        key: pem.describe('Private key, PEM.'),
        ca: pem.optional().describe('CA to verify client certificates (mutual TLS). Default: none (clients not verified).'),
      })
      .optional()
      .describe('Serve TLS instead of plaintext. Default: none (plaintext).'),
    maxStreams: z.number().int().positive().default(DEFAULT_EXECUTOR_LIMITS.maxStreams).describe('Concurrent Stream calls. Default: 64.'),
    maxMessageBytes: z
      .number()
      .int()
      .min(1024)
      .default(DEFAULT_EXECUTOR_LIMITS.maxMessageBytes)
      .describe('Largest received gRPC message, bytes. Default: 4194304 (4 MiB).'),
    maxWindow: z.number().int().positive().default(DEFAULT_EXECUTOR_LIMITS.maxWindow).describe('Largest credit window granted to one stream, items. Default: 1024.'),
    maxStreamBufferBytes: z
      .number()
      .int()
      .min(1024)
      .default(DEFAULT_EXECUTOR_LIMITS.maxStreamBufferBytes)
      .describe(
        'Bytes one stream may hold, each way: encoded outputs not yet taken by the client (over it: no credit, no input pushed into the chain) and received payloads not yet consumed by the chain (over it: no credit, the call is not read). Default: 16777216 (16 MiB).',
      ),
    maxStreamsPerClient: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_EXECUTOR_LIMITS.maxStreamsPerClient)
      .describe('Concurrent Stream calls from one client (peer IP address). Default: 16.'),
    // At most 256: measured on Node 20 in a fresh (unoptimized) executor, chains overflow the stack on subscribe at
    // ~400-448 nodes of core.bounded (the heaviest built-in node per level) and ~700-800 of core.passThrough; 256 keeps
    // >= 1.5x headroom for the heaviest node (test/abuse/streams.spec.ts runs a 256-node core.bounded chain end to end).
    maxNodes: z.number().int().positive().max(256).default(DEFAULT_EXECUTOR_LIMITS.maxNodes).describe('Nodes in one remote chain (at most 256). Default: 64.'),
    maxParamsBytes: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_EXECUTOR_LIMITS.maxParamsBytes)
      .describe("Length of one node's params_json, UTF-16 code units (shipped codeNode code counts). Default: 1048576."),
    maxNodeTypeLength: z.number().int().positive().max(4096).default(DEFAULT_EXECUTOR_LIMITS.maxNodeTypeLength).describe('Length of a node type string. Default: 128.'),
    openTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_EXECUTOR_LIMITS.openTimeoutMs)
      .describe('Close a Stream or Session call that sends no first message for this long, ms. Default: 10000.'),
    maxSessionCallsPerClient: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_EXECUTOR_LIMITS.maxSessionCallsPerClient)
      .describe('Session calls open at once from one client (peer IP address), attached or awaiting their first message. Default: 64.'),
    keepaliveTimeMs: z
      .number()
      .int()
      .min(1000)
      .default(DEFAULT_EXECUTOR_LIMITS.keepaliveTimeMs)
      .describe('Ping each client connection this often, ms (HTTP/2 PING), to find stopped or vanished clients. Default: 30000.'),
    keepaliveTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_EXECUTOR_LIMITS.keepaliveTimeoutMs)
      .describe('Close a connection whose ping is not answered within this long, ms (its calls end, its sessions detach). Default: 10000.'),
    maxCallsPerConnection: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_EXECUTOR_LIMITS.maxCallsPerConnection)
      .describe('Concurrent calls on one HTTP/2 connection (clients queue more on their side). Default: 128.'),
    maxSessionCalls: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_EXECUTOR_LIMITS.maxSessionCalls)
      .describe('Session calls open at once over all clients, attached or awaiting their first message. Default: 1024.'),
    maxIsolates: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_EXECUTOR_LIMITS.maxIsolates)
      .describe('isolated-vm isolates alive at once in this process (codeNode chains and shipped objects, in use or pooled). Default: 32.'),
    maxIsolatesPerClient: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_EXECUTOR_LIMITS.maxIsolatesPerClient)
      .describe('isolated-vm isolates in use at once for one client IP (its shipped objects and the codeNodes of its streams). Default: 8.'),
    sandboxCapabilities: z
      .array(z.enum(['console', 'wasm']))
      .default(['console'])
      .describe("Sandbox capabilities clients may request ('console': forwarded logging; 'wasm': WebAssembly whose memories and compiled code are reserved from half of the sandbox's memory limit, the heap getting the other half; needs --sandbox-memory-limit-mb ≥ 16). Default: ['console'] (no WebAssembly)."),
    errorStacks: z
      .enum(['never', 'authenticated', 'always'])
      .default('authenticated')
      .describe("Send error stacks to clients: 'authenticated' only when a token is configured (every caller proved it), 'always', or 'never'. Without stacks an error carries its code and a short message. Default: 'authenticated'."),
    idleTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_EXECUTOR_LIMITS.idleTimeoutMs)
      .describe(
        'Close a stream with no activity for this long, ms: no message received from the client and no write taken by the transport (a write queued for a client that does not read is not activity; its outputs are dropped on close). Default: 60000.',
      ),
    shutdownGraceMs: z
      .number()
      .int()
      .min(0)
      .default(DEFAULT_EXECUTOR_LIMITS.shutdownGraceMs)
      .describe('On close(), time open streams get to finish before they are cancelled, ms. Default: 5000.'),
    modules: z
      .array(z.string().min(1))
      .default([])
      .describe('Modules to import before serving (they register extra node types with defineNode). Default: [].'),
    preload: z
      .array(z.string().regex(/^(vad|stt|tts|respond):[a-z0-9_-]+$/, "must be 'kind:name', e.g. 'vad:silero' or 'stt:pocketsphinx'"))
      .default(['vad:silero'])
      .describe("ML engines to load at start-up and keep for the executor's life ('kind:name'), so the first stream pays no model load; a missing engine fails start-up. Default: ['vad:silero'] (ships in npm, no system package)."),
    reflection: z.boolean().default(true).describe('Serve gRPC server reflection (unauthenticated, describes the API only). Default: true.'),
    metricsPort: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .optional()
      .describe('Serve Prometheus metrics on GET http://<metricsHost>:<metricsPort>/metrics; 0 picks a free port. Default: none (no metrics endpoint).'),
    metricsHost: z
      .string()
      .min(1)
      .optional()
      .describe('Interface of the metrics endpoint (plain HTTP, no auth: the numbers carry no data). Default: the value of host.'),
    proxies: z.boolean().default(true).describe('Serve the Session RPC (object proxies). Default: true.'),
    code: z
      .boolean()
      .default(true)
      .describe('Run user code in sandboxes: shipped proxy classes and core.codeNode chains (--no-code refuses both; registered classes stay). Default: true.'),
    allowModules: z
      .array(z.string().min(1))
      .default([])
      .describe('Bare npm packages shipped code may bundle (they still run inside the sandbox). Default: [] (local imports only).'),
    sandboxMemoryLimitMb: z
      .number()
      .int()
      .min(8)
      .default(64)
      .describe("Heap limit of each sandbox isolate, MB; also the cap on a codeNode's memoryLimitMb (a client may only ask for less). Default: 64."),
    sandboxTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(1000)
      .describe("Longest single call into a sandbox, ms; also the cap on a codeNode's timeoutMs (a client may only ask for less). Default: 1000."),
    maxSessions: z.number().int().positive().default(DEFAULT_PROXY_LIMITS.maxSessions).describe('Proxy sessions on this executor (attached or awaiting reconnect). Default: 256.'),
    maxSessionsPerClient: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_PROXY_LIMITS.maxSessionsPerClient)
      .describe('Proxy sessions per client (peer IP address). Default: 32.'),
    maxObjects: z.number().int().positive().default(DEFAULT_PROXY_LIMITS.maxObjects).describe('Proxy objects on this executor. Default: 4096.'),
    maxObjectsPerClient: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_PROXY_LIMITS.maxObjectsPerClient)
      .describe('Proxy objects per client (peer IP address). Default: 1024.'),
    maxIteratorsPerObject: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_PROXY_LIMITS.maxIteratorsPerObject)
      .describe('Open remote iterators (generator results) per proxy object. Default: 64.'),
    sessionTtlMs: z
      .number()
      .int()
      .min(0)
      .default(DEFAULT_PROXY_LIMITS.sessionTtlMs)
      .describe('How long a dropped proxy session keeps its objects for a reconnect, ms. Default: 30000.'),
    maxPendingRequestsPerCall: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_PROXY_LIMITS.maxPendingRequestsPerCall)
      .describe('Requests one Session call may have in progress at once (create, invoke, release); one more is refused. Default: 256.'),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .optional()
      .describe("pino log level (logs go to stderr). Default: env REMOTEMEDIA_LOG_LEVEL, else 'info'."),
  })
  .describe('Options of startExecutor() and `remotemedia executor`.');

/** Options of `startExecutor()`; every field is optional. */
export type ExecutorOptions = z.input<typeof ExecutorOptionsSchema>;
/** Options with defaults filled in. */
export type ResolvedExecutorOptions = z.output<typeof ExecutorOptionsSchema>;

/** JSON Schema of the options (docs and `--help` are generated from it). */
export const executorOptionsJsonSchema = (): Record<string, unknown> =>
  z.toJSONSchema(ExecutorOptionsSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;

/** True for 127.0.0.0/8, ::1 and 'localhost'. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === '::1' || bare === '::ffff:127.0.0.1';
}

/** Validates options and applies the bind rule; throws {@link InvalidParamsError} naming the field. */
export function resolveExecutorOptions(options: ExecutorOptions = {}): ResolvedExecutorOptions {
  const resolved = parseParams('executor', ExecutorOptionsSchema, options);
  if (!isLoopbackHost(resolved.host) && resolved.token === undefined && !resolved.insecure) {
    throw new InvalidParamsError(
      'executor',
      'token',
      `binding '${resolved.host}' (not loopback) requires a token; pass token (or insecure: true to serve anyone who can reach it)`,
    );
  }
  return resolved;
}
