/**
 * `remotemedia webrtc`: starts the voice server from the command line. Written as a function so that
 * `bin/remotemedia.ts` adds it to its commander program, and so that the media layer stays free of gRPC: for
 * `--executor`, the caller hands in a {@link WebRtcCommandOptions.runRemote} built from `remote()`.
 * @module
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { InvalidParamsError } from '../../errors.js';
import { echoPipeline } from './pipelines.js';
import type { WebRtcPipeline } from './pipelineTypes.js';
import { DEFAULT_WEBRTC_LIMITS, startWebRtcServer, type WebRtcServer } from './server.js';
import type { RemoteRunner } from './voicePipelines.js';

/** Flags a pipeline factory receives. */
export interface WebRtcCliFlags {
  /** `--executor host:port`: run the heavy part on that executor (for factories that support it). */
  readonly executor?: string | undefined;
  /** `--phrases 'a|b|c'`: what speech recognition listens for. */
  readonly phrases?: readonly string[] | undefined;
}

/** Named pipelines selectable with `--pipeline <name>`; `voice` and `echo` are built in. */
export type WebRtcCliPipelines = Readonly<Record<string, (flags: WebRtcCliFlags) => WebRtcPipeline | Promise<WebRtcPipeline>>>;

/** Options of {@link webrtcCommand}. */
export interface WebRtcCommandOptions {
  /** More named pipelines. Default: none. */
  readonly pipelines?: WebRtcCliPipelines;
  /**
   * Builds a runner for `--executor <address>`, e.g.
   * `(address) => (nodes) => remote({ address, window: 64, overflow: 'drop-oldest' }, ...nodes)`.
   * Default: none (`--executor` is then refused).
   */
  readonly runRemote?: (address: string) => RemoteRunner;
  /** Called with the running server, which the caller then owns (tests, embedding). Default: print the URL and close on SIGINT/SIGTERM. */
  readonly onStarted?: (server: WebRtcServer) => void;
}

interface Flags {
  port: number;
  host: string;
  pipeline: string;
  executor?: string;
  phrases?: string;
  maxPeers: number;
  maxPeersPerAddress: number;
  /** commander camel-cases `--max-websockets` as `maxWebsockets`. */
  maxWebsockets: number;
  maxWebsocketsPerAddress: number;
  connectTimeoutMs: number;
  signalingTimeoutMs: number;
  maxQueuedMs: number;
  bargeIn: boolean;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('not a non-negative integer');
  return n;
}

/**
 * Adds `webrtc` to `program`: `voice` (default: Silero vad → pocketsphinx → respond(echo) → espeak, the speech stages
 * on `--executor` when given) or `echo` (no ML).
 * @example
 * ```ts
 * webrtcCommand(program, { runRemote: (address) => (nodes) => remote({ address, window: 64, overflow: 'drop-oldest' }, ...nodes) });
 * ```
 */
export function webrtcCommand(program: Command, options: WebRtcCommandOptions = {}): Command {
  const { runRemote, onStarted } = options;
  const all: WebRtcCliPipelines = {
    voice: async ({ executor, phrases }) => {
      if (executor !== undefined && !runRemote) throw new InvalidParamsError('remotemedia webrtc', 'executor', 'this build of the command cannot reach executors (no remote runner)');
      // Loaded on use: the ML engines (onnxruntime) stay out of the other commands' start-up.
      const { webrtcVoicePipeline } = await import('./voicePipelines.js');
      return webrtcVoicePipeline({ stt: phrases ? { phrases: [...phrases] } : {}, runRemote: executor !== undefined ? runRemote!(executor) : undefined });
    },
    echo: () => echoPipeline(),
    ...options.pipelines,
  };
  return program
    .command('webrtc')
    .description('Serve the voice page: browser microphone over WebRTC → pipeline → spoken reply (open the printed URL)')
    .addOption(new Option('--port <port>', 'HTTP/WebSocket port').argParser(integer).default(8080))
    .addOption(new Option('--host <host>', 'address to listen on').default('127.0.0.1'))
    .addOption(new Option('--pipeline <name>', 'what runs per connection').choices(Object.keys(all)).default('voice'))
    .addOption(new Option('--executor <host:port>', 'run the ML part on this executor (voice)'))
    .addOption(new Option('--phrases <list>', "phrases to recognize, '|'-separated (exact offline recognition with pocketsphinx)"))
    .addOption(new Option('--max-peers <n>', 'peer connections at once').argParser(integer).default(DEFAULT_WEBRTC_LIMITS.maxPeers))
    .addOption(new Option('--max-peers-per-address <n>', 'peer connections from one remote address').argParser(integer).default(DEFAULT_WEBRTC_LIMITS.maxPeersPerAddress))
    .addOption(new Option('--max-websockets <n>', 'signaling sockets at once').argParser(integer).default(DEFAULT_WEBRTC_LIMITS.maxWebSockets))
    .addOption(new Option('--max-websockets-per-address <n>', 'signaling sockets from one remote address').argParser(integer).default(DEFAULT_WEBRTC_LIMITS.maxWebSocketsPerAddress))
    .addOption(new Option('--connect-timeout-ms <ms>', 'offer → connected, else the peer is closed').argParser(integer).default(DEFAULT_WEBRTC_LIMITS.connectTimeoutMs))
    .addOption(new Option('--signaling-timeout-ms <ms>', 'a signaling socket without a peer connection this long is closed').argParser(integer).default(DEFAULT_WEBRTC_LIMITS.signalingTimeoutMs))
    .addOption(new Option('--max-queued-ms <ms>', 'reply audio queued per peer before the oldest is dropped').argParser(integer).default(60_000))
    .option('--no-barge-in', 'do not stop the reply when the user speaks over it')
    .action(async (flags: Flags) => {
      const phrases = flags.phrases?.split('|').map((p) => p.trim()).filter((p) => p !== '');
      const pipeline = await all[flags.pipeline]!({ executor: flags.executor, phrases });
      const server = await startWebRtcServer({
        port: flags.port,
        host: flags.host,
        pipeline,
        maxPeers: flags.maxPeers,
        maxPeersPerAddress: flags.maxPeersPerAddress,
        maxWebSockets: flags.maxWebsockets,
        maxWebSocketsPerAddress: flags.maxWebsocketsPerAddress,
        connectTimeoutMs: flags.connectTimeoutMs,
        signalingTimeoutMs: flags.signalingTimeoutMs,
        maxQueuedMs: flags.maxQueuedMs,
        bargeIn: { enabled: flags.bargeIn },
      });
      if (onStarted) {
        onStarted(server);
        return;
      }
      process.stdout.write(`remotemedia webrtc: pipeline '${flags.pipeline}' — open ${server.url} (Ctrl+C to stop)\n`);
      const stop = (): void => {
        void server.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
