/**
 * The `remotemedia` command line: `remotemedia executor [options]` serves node chains; `remotemedia nodes` prints
 * the node registry as JSON. Used by `bin/remotemedia.ts` and `executor/main.ts`.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve as resolvePath } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { listNodes } from '../src/node.js';
import { executorNodes } from '../src/remote/executorClient.js';
import type { ExecutorOptions } from './options.js';
import { startExecutor } from './server.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('not an integer');
  return n;
}

interface ExecutorFlags {
  host: string;
  port: number;
  token?: string;
  insecure?: boolean;
  module: string[];
  preload: string[];
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  maxStreams?: number;
  maxMessageBytes?: number;
  maxWindow?: number;
  maxStreamBufferBytes?: number;
  idleTimeoutMs?: number;
  shutdownGraceMs?: number;
  metricsPort?: number;
  metricsHost?: string;
  logLevel?: ExecutorOptions['logLevel'];
  reflection: boolean;
  proxies: boolean;
  code: boolean;
  allowModule: string[];
  sandboxMemoryLimitMb?: number;
  sandboxTimeoutMs?: number;
  maxSessions?: number;
  maxSessionsPerClient?: number;
  maxObjects?: number;
  maxObjectsPerClient?: number;
  maxIteratorsPerObject?: number;
  sessionTtlMs?: number;
  maxPendingRequestsPerCall?: number;
  maxStreamsPerClient?: number;
  maxNodes?: number;
  maxParamsBytes?: number;
  maxNodeTypeLength?: number;
  openTimeoutMs?: number;
  maxSessionCallsPerClient?: number;
  keepaliveTimeMs?: number;
  keepaliveTimeoutMs?: number;
  maxIsolates?: number;
  maxIsolatesPerClient?: number;
  maxCallsPerConnection?: number;
  maxSessionCalls?: number;
  sandboxCapability: string[];
  errorStacks?: ExecutorOptions['errorStacks'];
}

/** Builds the commander program (exported for tests). */
export function buildCli(): Command {
  const program = new Command('remotemedia').description('remotemedia: media and ML pipelines as RxJS operators, local or remote');
  const env = (flags: string, description: string, variable: string, parse?: (value: string) => number): Option => {
    const option = new Option(flags, `${description} [env ${variable}]`).env(variable);
    return parse === undefined ? option : option.argParser(parse);
  };
  program
    .command('executor')
    .description('Serve node chains to remote() clients over gRPC (every flag also reads the environment variable shown)')
    .addOption(env('--host <host>', 'interface to bind; non-loopback requires --token or --insecure', 'REMOTEMEDIA_HOST').default('127.0.0.1'))
    .addOption(env('--port <n>', 'TCP port (0 = any free port)', 'REMOTEMEDIA_PORT', integer).default(50051))
    .addOption(env('--token <token>', 'require "authorization: Bearer <token>"', 'REMOTEMEDIA_TOKEN'))
    .addOption(env('--insecure', 'allow a non-loopback host without a token', 'REMOTEMEDIA_INSECURE'))
    .option('--module <path>', 'import a module that registers extra nodes (repeatable; env REMOTEMEDIA_MODULES, comma-separated)', collect, [])
    .addOption(env('--tls-cert <file>', 'TLS certificate chain (PEM)', 'REMOTEMEDIA_TLS_CERT'))
    .addOption(env('--tls-key <file>', 'TLS private key (PEM)', 'REMOTEMEDIA_TLS_KEY'))
    .addOption(env('--tls-ca <file>', 'CA for client certificates (mutual TLS)', 'REMOTEMEDIA_TLS_CA'))
    .addOption(env('--max-streams <n>', 'concurrent streams (default 64)', 'REMOTEMEDIA_MAX_STREAMS', integer))
    .addOption(env('--max-message-bytes <n>', 'largest received message in bytes (default 4194304)', 'REMOTEMEDIA_MAX_MESSAGE_BYTES', integer))
    .addOption(env('--max-window <n>', 'largest credit window per stream in items (default 1024)', 'REMOTEMEDIA_MAX_WINDOW', integer))
    .addOption(env('--idle-timeout-ms <n>', 'close streams idle this long (default 60000)', 'REMOTEMEDIA_IDLE_TIMEOUT_MS', integer))
    .addOption(env('--shutdown-grace-ms <n>', 'grace for open streams on SIGTERM/SIGINT (default 5000)', 'REMOTEMEDIA_SHUTDOWN_GRACE_MS', integer))
    .addOption(env('--metrics-port <n>', 'serve Prometheus metrics on http://<metrics-host>:<n>/metrics (default: off)', 'REMOTEMEDIA_METRICS_PORT', integer))
    .addOption(env('--metrics-host <host>', 'interface of the metrics endpoint (default: --host)', 'REMOTEMEDIA_METRICS_HOST'))
    .addOption(env('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (default info)', 'REMOTEMEDIA_LOG_LEVEL'))
    .option('--preload <kind:name>', "ML engine to load at start-up, e.g. vad:silero or stt:pocketsphinx (repeatable; default vad:silero)", collect, [])
    .option('--no-reflection', 'do not serve gRPC server reflection')
    .option('--no-proxies', 'do not serve object proxies (the Session RPC)')
    .option('--no-code', 'refuse user code: shipped proxy classes and core.codeNode chains (registered classes still work)')
    .option('--allow-module <name>', 'bare npm package shipped code may bundle (repeatable)', collect, [])
    .option('--sandbox-memory-limit-mb <n>', 'heap limit of each sandbox isolate in MB (default 64)', integer)
    .option('--sandbox-timeout-ms <n>', 'longest single call into a sandbox (default 1000)', integer)
    .option('--max-sessions <n>', 'proxy sessions on this executor (default 256)', integer)
    .option('--max-sessions-per-client <n>', 'proxy sessions per client IP (default 32)', integer)
    .option('--max-objects <n>', 'proxy objects on this executor (default 4096)', integer)
    .option('--max-objects-per-client <n>', 'proxy objects per client IP (default 1024)', integer)
    .option('--max-iterators-per-object <n>', 'open remote generators per proxy object (default 64)', integer)
    .option('--session-ttl-ms <n>', 'how long a dropped proxy session keeps its objects (default 30000)', integer)
    .option('--max-pending-requests-per-call <n>', 'requests one Session call may have in progress at once (default 256)', integer)
    .option('--max-streams-per-client <n>', 'concurrent streams per client IP (default 16)', integer)
    .option('--max-nodes <n>', 'nodes in one remote chain (default 64)', integer)
    .option('--max-params-bytes <n>', "length of one node's params_json in UTF-16 units (default 1048576)", integer)
    .option('--max-node-type-length <n>', 'length of a node type string (default 128)', integer)
    .option('--max-stream-buffer-bytes <n>', 'bytes one stream may hold each way: outputs not taken, inputs not consumed (default 16777216)', integer)
    .option('--open-timeout-ms <n>', 'close calls that send no first message this long (default 10000)', integer)
    .option('--max-session-calls-per-client <n>', 'Session calls open at once per client IP (default 64)', integer)
    .option('--keepalive-time-ms <n>', 'ping each client connection this often (default 30000)', integer)
    .option('--keepalive-timeout-ms <n>', 'close a connection whose ping is unanswered this long (default 10000)', integer)
    .option('--max-calls-per-connection <n>', 'concurrent calls on one HTTP/2 connection (default 128)', integer)
    .option('--max-session-calls <n>', 'Session calls open at once over all clients (default 1024)', integer)
    .option('--max-isolates <n>', 'sandbox isolates alive at once in this process (default 32)', integer)
    .option('--max-isolates-per-client <n>', 'sandbox isolates in use at once for one client IP (default 8)', integer)
    .option('--sandbox-capability <name>', "capability clients may request for sandboxed code: console, wasm (repeatable; default console)", collect, [])
    .option('--error-stacks <when>', 'send error stacks to clients: never | authenticated | always (default authenticated: only with --token)')
    .action(async (flags: ExecutorFlags) => {
      const tls =
        flags.tlsCert !== undefined || flags.tlsKey !== undefined
          ? { cert: readFileSync(flags.tlsCert ?? ''), key: readFileSync(flags.tlsKey ?? ''), ca: flags.tlsCa === undefined ? undefined : readFileSync(flags.tlsCa) }
          : undefined;
      const executor = await startExecutor({
        host: flags.host,
        port: flags.port,
        token: flags.token,
        insecure: flags.insecure ?? false,
        modules: flags.module.length > 0 ? flags.module : (process.env['REMOTEMEDIA_MODULES'] ?? '').split(',').filter((m) => m !== ''),
        tls,
        preload: flags.preload.length > 0 ? flags.preload : undefined,
        maxStreams: flags.maxStreams,
        maxMessageBytes: flags.maxMessageBytes,
        maxWindow: flags.maxWindow,
        maxStreamBufferBytes: flags.maxStreamBufferBytes,
        idleTimeoutMs: flags.idleTimeoutMs,
        shutdownGraceMs: flags.shutdownGraceMs,
        metricsPort: flags.metricsPort,
        metricsHost: flags.metricsHost,
        logLevel: flags.logLevel,
        reflection: flags.reflection,
        proxies: flags.proxies,
        code: flags.code,
        allowModules: flags.allowModule,
        sandboxMemoryLimitMb: flags.sandboxMemoryLimitMb,
        sandboxTimeoutMs: flags.sandboxTimeoutMs,
        maxSessions: flags.maxSessions,
        maxSessionsPerClient: flags.maxSessionsPerClient,
        maxObjects: flags.maxObjects,
        maxObjectsPerClient: flags.maxObjectsPerClient,
        maxIteratorsPerObject: flags.maxIteratorsPerObject,
        sessionTtlMs: flags.sessionTtlMs,
        maxPendingRequestsPerCall: flags.maxPendingRequestsPerCall,
        maxStreamsPerClient: flags.maxStreamsPerClient,
        maxNodes: flags.maxNodes,
        maxParamsBytes: flags.maxParamsBytes,
        maxNodeTypeLength: flags.maxNodeTypeLength,
        openTimeoutMs: flags.openTimeoutMs,
        maxSessionCallsPerClient: flags.maxSessionCallsPerClient,
        keepaliveTimeMs: flags.keepaliveTimeMs,
        keepaliveTimeoutMs: flags.keepaliveTimeoutMs,
        maxIsolates: flags.maxIsolates,
        maxIsolatesPerClient: flags.maxIsolatesPerClient,
        maxCallsPerConnection: flags.maxCallsPerConnection,
        maxSessionCalls: flags.maxSessionCalls,
        sandboxCapabilities: flags.sandboxCapability.length > 0 ? (flags.sandboxCapability as ExecutorOptions['sandboxCapabilities']) : undefined,
        errorStacks: flags.errorStacks,
      });
      // One machine-readable line on stdout (logs go to stderr), so scripts and tests learn the bound port.
      process.stdout.write(`${JSON.stringify({ listening: executor.address, port: executor.port, ...(executor.metricsUrl !== undefined && { metrics: executor.metricsUrl }) })}\n`);
      const stop = (): void => {
        void executor.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  program
    .command('nodes')
    .description('Print the node registry (type, description, kinds, params JSON Schema) as JSON')
    .option('--module <path>', 'import a module that registers extra nodes (repeatable)', collect, [])
    .option('--address <host:port>', "list an executor's nodes instead of the local registry")
    .option('--token <token>', 'token for --address (default: env REMOTEMEDIA_TOKEN)')
    .option('--json', 'print JSON (the default when stdout is not a terminal; a table otherwise)')
    .action(async (flags: { module: string[]; address?: string; token?: string; json?: boolean }) => {
      let nodes;
      if (flags.address !== undefined) {
        nodes = await executorNodes({ address: flags.address, token: flags.token ?? process.env['REMOTEMEDIA_TOKEN'] });
      } else {
        await import('./builtins.js');
        for (const module of flags.module) await import(module.startsWith('.') || module.startsWith('/') ? pathToFileURL(resolvePath(module)).href : module);
        nodes = listNodes();
      }
      if (flags.json === true || !process.stdout.isTTY) process.stdout.write(`${JSON.stringify(nodes, null, 2)}\n`);
      else process.stdout.write(nodesTable(nodes));
    });
  return program;
}

/** One line per node: type, input → output, description. */
function nodesTable(nodes: readonly { type: string; input: string; output: string; description: string }[]): string {
  const width = Math.max(...nodes.map((n) => n.type.length));
  return nodes.map((n) => `${n.type.padEnd(width)}  ${`${n.input} → ${n.output}`.padEnd(16)}  ${n.description}\n`).join('');
}

/** Runs the CLI with `argv` (as in `process.argv`: node, script, command, ...). */
export async function runCli(argv: readonly string[]): Promise<void> {
  await buildCli().parseAsync([...argv]);
}
