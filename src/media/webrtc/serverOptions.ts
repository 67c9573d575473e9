/**
 * Settings of {@link startWebRtcServer}: one zod schema, each field with its unit and default, and the limits with
 * the threat each one bounds.
 * @module
 */
import { z } from 'zod';

/** Default limits of the WebRTC server; each bounds one thing a client could otherwise make the process do. */
export const DEFAULT_WEBRTC_LIMITS = Object.freeze({
  /** Peer connections at once. Each holds a werift peer, two Opus codecs, a 50 Hz timer and a pipeline. */
  maxPeers: 8,
  /** Signaling WebSockets at once (peers + people still on the page); bounds sockets held by idle tabs. */
  maxWebSockets: 64,
  /** Largest signaling message, bytes; a browser offer is ~3–6 KB. Larger frames close the socket (code 1009). */
  maxMessageBytes: 65_536,
  /** Reply audio waiting for playback, ms; past it the oldest is dropped and counted (a runaway TTS cannot grow memory). */
  maxQueuedMs: 60_000,
  /** Time from offer to connected, ms (making the answer included); a peer that never completes ICE is closed. */
  connectTimeoutMs: 15_000,
  /** A signaling socket with no peer (none offered yet, or its peer closed) this long is closed; idle tabs and
   * half-open sockets cannot hold `maxWebSockets` slots for ever. */
  signalingTimeoutMs: 30_000,
  /** Peer connections (answered or being answered) from one remote IP address; one client cannot fill the server. */
  maxPeersPerAddress: 4,
  /** Signaling WebSockets from one remote IP address. */
  maxWebSocketsPerAddress: 16,
});

const BargeInSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Stop the reply when the user speaks over it. Default: true.'),
    threshold: z.number().min(0).max(1).default(0.02).describe('RMS level of incoming audio that counts as speech. Default: 0.02.'),
    minSpeechMs: z.number().min(0).max(2_000).default(60).describe('Continuous speech needed to interrupt, in milliseconds. Default: 60 ms.'),
  })
  .describe('Barge-in: new user speech while a reply plays stops it and cancels the in-flight reply.');

/** Settings schema of the WebRTC server (everything but the pipeline). */
export const WebRtcServerOptionsSchema = z
  .object({
    port: z.number().int().min(0).max(65_535).default(8080).describe('TCP port of the page, /ws, /health and /connections; 0 picks a free one. Default: 8080.'),
    host: z.string().min(1).default('127.0.0.1').describe("Address to listen on. Default: '127.0.0.1' (this machine only)."),
    maxPeers: z.number().int().min(1).max(1_000).default(DEFAULT_WEBRTC_LIMITS.maxPeers)
      .describe(`Peer connections at once; an offer beyond it gets an 'error' message (RESOURCE_EXHAUSTED). Default: ${DEFAULT_WEBRTC_LIMITS.maxPeers}.`),
    maxWebSockets: z.number().int().min(1).max(10_000).default(DEFAULT_WEBRTC_LIMITS.maxWebSockets)
      .describe(`Signaling WebSockets at once; more are refused with an 'error' and closed. Default: ${DEFAULT_WEBRTC_LIMITS.maxWebSockets}.`),
    maxMessageBytes: z.number().int().min(1_024).max(16 * 1024 * 1024).default(DEFAULT_WEBRTC_LIMITS.maxMessageBytes)
      .describe(`Largest signaling message in bytes. Default: ${DEFAULT_WEBRTC_LIMITS.maxMessageBytes}.`),
    maxQueuedMs: z.number().min(20).max(600_000).default(DEFAULT_WEBRTC_LIMITS.maxQueuedMs)
      .describe(`Reply audio queued for playback per peer, in milliseconds; beyond it the oldest is dropped and counted. Default: ${DEFAULT_WEBRTC_LIMITS.maxQueuedMs} ms.`),
    connectTimeoutMs: z.number().int().min(100).max(600_000).default(DEFAULT_WEBRTC_LIMITS.connectTimeoutMs)
      .describe(`Time for a peer to connect after its offer (the answer included), in milliseconds. Default: ${DEFAULT_WEBRTC_LIMITS.connectTimeoutMs} ms.`),
    signalingTimeoutMs: z.number().int().min(100).max(3_600_000).default(DEFAULT_WEBRTC_LIMITS.signalingTimeoutMs)
      .describe(`Close a signaling socket that holds no peer connection for this long, in milliseconds. Default: ${DEFAULT_WEBRTC_LIMITS.signalingTimeoutMs} ms.`),
    maxPeersPerAddress: z.number().int().min(1).max(1_000).default(DEFAULT_WEBRTC_LIMITS.maxPeersPerAddress)
      .describe(`Peer connections from one remote IP address; an offer beyond it gets an 'error' message (RESOURCE_EXHAUSTED). Default: ${DEFAULT_WEBRTC_LIMITS.maxPeersPerAddress}.`),
    maxWebSocketsPerAddress: z.number().int().min(1).max(10_000).default(DEFAULT_WEBRTC_LIMITS.maxWebSocketsPerAddress)
      .describe(`Signaling WebSockets from one remote IP address; more are refused with an 'error' and closed. Default: ${DEFAULT_WEBRTC_LIMITS.maxWebSocketsPerAddress}.`),
    bargeIn: BargeInSchema.default({ enabled: true, threshold: 0.02, minSpeechMs: 60 }),
    iceLoopbackOnly: z.boolean().optional()
      .describe('Use only 127.0.0.0/8 ICE candidates (and answer no STUN checks elsewhere). Default: true when host is a loopback address.'),
    pageDir: z.string().optional().describe('Directory of the client page (index.html, client.js). Default: the package\'s assets/webrtc.'),
  })
  .describe('Settings of the WebRTC voice server.');

/** Validated settings (defaults filled in). */
export type WebRtcServerSettings = z.output<typeof WebRtcServerOptionsSchema>;

/** Settings as the caller writes them (every field optional). */
export type WebRtcServerSettingsInput = z.input<typeof WebRtcServerOptionsSchema>;
