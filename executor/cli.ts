/**
 * The `remotemedia` command line: `remotemedia executor [options]` serves node chains; `remotemedia nodes` prints
 * the node registry as JSON. Used by `bin/remotemedia.ts` and `executor/main.ts`.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve as resolvePath } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
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
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  maxStreams?: number;
  maxMessageBytes?: number;
  maxWindow?: number;
  idleTimeoutMs?: number;
  shutdownGraceMs?: number;
  logLevel?: ExecutorOptions['logLevel'];
  reflection: boolean;
}

/** Builds the commander program (exported for tests). */
export function buildCli(): Command {
  const program = new Command('remotemedia').description('remotemedia: media and ML pipelines as RxJS operators, local or remote');
  program
    .command('executor')
    .description('Serve node chains to remote() clients over gRPC')
    .option('--host <host>', 'interface to bind; non-loopback requires --token or --insecure', '127.0.0.1')
    .option('--port <n>', 'TCP port (0 = any free port)', integer, 50051)
    .option('--token <token>', 'require "authorization: Bearer <token>" (default: env REMOTEMEDIA_TOKEN)')
    .option('--insecure', 'allow a non-loopback host without a token')
    .option('--module <path>', 'import a module that registers extra nodes (repeatable)', collect, [])
    .option('--tls-cert <file>', 'TLS certificate chain (PEM)')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--tls-ca <file>', 'CA for client certificates (mutual TLS)')
    .option('--max-streams <n>', 'concurrent streams (default 64)', integer)
    .option('--max-message-bytes <n>', 'largest received message in bytes (default 4194304)', integer)
    .option('--max-window <n>', 'largest credit window per stream in items (default 1024)', integer)
    .option('--idle-timeout-ms <n>', 'close streams idle this long (default 60000)', integer)
    .option('--shutdown-grace-ms <n>', 'grace for open streams on SIGTERM/SIGINT (default 5000)', integer)
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (default: env REMOTEMEDIA_LOG_LEVEL or info)')
    .option('--no-reflection', 'do not serve gRPC server reflection')
    .action(async (flags: ExecutorFlags) => {
      const tls =
        flags.tlsCert !== undefined || flags.tlsKey !== undefined
          ? { cert: readFileSync(flags.tlsCert ?? ''), key: readFileSync(flags.tlsKey ?? ''), ca: flags.tlsCa === undefined ? undefined : readFileSync(flags.tlsCa) }
          : undefined;
      const executor = await startExecutor({
        host: flags.host,
        port: flags.port,
        token: flags.token ?? process.env['REMOTEMEDIA_TOKEN'],
        insecure: flags.insecure ?? false,
        modules: flags.module,
        tls,
        maxStreams: flags.maxStreams,
        maxMessageBytes: flags.maxMessageBytes,
        maxWindow: flags.maxWindow,
        idleTimeoutMs: flags.idleTimeoutMs,
        shutdownGraceMs: flags.shutdownGraceMs,
        logLevel: flags.logLevel,
        reflection: flags.reflection,
      });
      // One machine-readable line on stdout (logs go to stderr), so scripts and tests learn the bound port.
      process.stdout.write(`${JSON.stringify({ listening: executor.address, port: executor.port })}\n`);
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
    .action(async (flags: { module: string[]; address?: string; token?: string }) => {
      let nodes;
      if (flags.address !== undefined) {
        nodes = await executorNodes({ address: flags.address, token: flags.token ?? process.env['REMOTEMEDIA_TOKEN'] });
      } else {
        await import('./builtins.js');
        for (const module of flags.module) await import(module.startsWith('.') || module.startsWith('/') ? pathToFileURL(resolvePath(module)).href : module);
        nodes = listNodes();
      }
      process.stdout.write(`${JSON.stringify(nodes, null, 2)}\n`);
    });
  return program;
}

/** Runs the CLI with `argv` (as in `process.argv`: node, script, command, ...). */
export async function runCli(argv: readonly string[]): Promise<void> {
  await buildCli().parseAsync([...argv]);
}
