/**
 * `startWebRtcServer()`: an HTTP server that serves the client page, signals over a WebSocket at `/ws`, reports
 * `/health` and `/connections`, and runs one werift peer (and one pipeline subscription) per browser.
 * @module
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defer, finalize, share } from 'rxjs';
import { WebSocketServer, type WebSocket } from 'ws';
import { errorToData, InvalidParamsError } from '../../errors.js';
import { parseParams } from '../../node.js';
import { defaultPageDir, httpRoutes } from './httpRoutes.js';
import { liveOpusCodecs } from './opusCodec.js';
import { pacedFrames } from './pacedFrames.js';
import { livePeerConnections, PeerSession, type PeerInfo } from './peerSession.js';
import type { WebRtcPipeline } from './pipelineTypes.js';
import { errorMessage, isLoopbackAddress, parseClientMessage, type IceCandidateJson, type ServerMessage } from './signaling.js';
import { liveVoiceSessionResources } from './voiceSession.js';
import { WebRtcServerOptionsSchema, type WebRtcServerSettingsInput } from './serverOptions.js';

export { WebRtcServerOptionsSchema, DEFAULT_WEBRTC_LIMITS, type WebRtcServerSettings, type WebRtcServerSettingsInput } from './serverOptions.js';

const NODE = 'webrtc.server';

/** Options of {@link startWebRtcServer}: the pipeline plus the settings of `WebRtcServerOptionsSchema`. */
export type WebRtcServerOptions = WebRtcServerSettingsInput & {
  /** What runs per connection (see {@link WebRtcPipeline}). Required. */
  readonly pipeline: WebRtcPipeline;
  /** Warnings (drops, failures). Default: `console.warn`. */
  readonly warn?: (message: string) => void;
};

/** `GET /health`. */
export interface WebRtcHealth {
  readonly status: 'ok';
  readonly activeConnections: number;
  readonly websocketConnections: number;
}

/** Live resources of this process, for leak checks (all return to their baseline when every client is gone). */
export interface WebRtcResources {
  readonly peers: number;
  readonly sessions: number;
  readonly pipelines: number;
  readonly pacers: number;
  readonly detectors: number;
  readonly opusCodecs: number;
  readonly websockets: number;
  /** Connect timeouts pending + the shared 20 ms clock while any peer plays. */
  readonly timers: number;
}

/** A running server. */
export interface WebRtcServer {
  /** `http://host:port/` (the client page). */
  readonly url: string;
  readonly port: number;
  health(): WebRtcHealth;
  connections(): PeerInfo[];
  resources(): WebRtcResources;
  /** Closes every peer and socket, then the listener. */
  close(): Promise<void>;
}

/** ICE candidates held per socket while its answer is being made; a browser sends a handful, a flood is refused. */
const MAX_EARLY_CANDIDATES = 64;

interface Client {
  readonly ws: WebSocket;
  peer?: PeerSession | undefined;
  pending: boolean;
  readonly earlyCandidates: IceCandidateJson[];
}

/**
 * Starts the server and resolves once it listens.
 * @throws {@link InvalidParamsError} for bad settings (field named) or a missing pipeline.
 * @example
 * ```ts
 * const server = await startWebRtcServer({ port: 8080, pipeline: pipe(energyVad(), vadTriggeredBuffer()) });
 * console.log(`open ${server.url}`);
 * ```
 */
export async function startWebRtcServer(options: WebRtcServerOptions): Promise<WebRtcServer> {
  const { pipeline, warn: warnOption, ...rest } = options;
  const settings = parseParams(NODE, WebRtcServerOptionsSchema, rest);
  if (typeof pipeline !== 'function' && typeof (pipeline as { pipeline?: unknown } | undefined)?.pipeline !== 'function') {
    throw new InvalidParamsError(NODE, 'pipeline', 'must be an operator, a function (input$, ctx) => output$, or { pipeline }');
  }
  const warn = warnOption ?? ((m: string) => console.warn(m));
  const loopbackOnly = settings.iceLoopbackOnly ?? isLoopbackAddress(settings.host);
  const pageDir = settings.pageDir ?? defaultPageDir();
  const clients = new Set<Client>();
  const peers = new Map<string, PeerSession>();
  let nextPeer = 1;
  let timers = 0;
  // One 20 ms timer for every peer of this server (instead of one each); it runs only while some peer subscribes.
  let clockRunning = false;
  const clock = defer(() => {
    clockRunning = true;
    return pacedFrames(() => undefined);
  }).pipe(
    finalize(() => (clockRunning = false)),
    share(),
  );

  const send = (client: Client, message: ServerMessage): void => {
    if (client.ws.readyState === client.ws.OPEN) client.ws.send(JSON.stringify(message));
  };

  const http = createServer(httpRoutes({ pageDir, health, connections: () => [...peers.values()].map((p) => p.info()) }));
  const wss = new WebSocketServer({ noServer: true, maxPayload: settings.maxMessageBytes });

  http.on('upgrade', (req, socket, head) => {
    if ((req.url ?? '').split('?')[0] !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws));
  });

  function onSocket(ws: WebSocket): void {
    const client: Client = { ws, pending: false, earlyCandidates: [] };
    if (clients.size >= settings.maxWebSockets) {
      send(client, errorMessage('RESOURCE_EXHAUSTED', `too many signaling connections (max ${settings.maxWebSockets})`));
      ws.close(1013, 'too many connections');
      return;
    }
    clients.add(client);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return send(client, errorMessage('PROTOCOL', 'signaling messages are JSON text, not binary'));
      void onMessage(client, data.toString()).catch((e: unknown) => send(client, errorMessage('INTERNAL', errorToData(e).message)));
    });
    ws.on('close', () => {
      clients.delete(client);
      client.peer?.close('signaling closed');
    });
    ws.on('error', (e) => warn(`[webrtc] signaling socket error: ${e.message}`));
  }

  async function onMessage(client: Client, text: string): Promise<void> {
    const parsed = parseClientMessage(text);
    if (!parsed.ok) return send(client, parsed.error);
    const message = parsed.message;
    switch (message.type) {
      case 'offer':
        return offer(client, message.sdp);
      case 'ice-candidate':
        if (client.pending) {
          if (client.earlyCandidates.length >= MAX_EARLY_CANDIDATES) return send(client, errorMessage('RESOURCE_EXHAUSTED', `more than ${MAX_EARLY_CANDIDATES} ICE candidates before the answer`));
          client.earlyCandidates.push(message.candidate);
          return;
        }
        if (!client.peer) return send(client, errorMessage('PROTOCOL', "'ice-candidate' before 'offer'"));
        try {
          await client.peer.addIceCandidate(message.candidate);
        } catch (e) {
          send(client, errorMessage('INVALID_INPUT', `bad ICE candidate: ${errorToData(e).message}`));
        }
        return;
      case 'close':
        client.peer?.close('closed by client');
        return;
    }
  }

  async function offer(client: Client, sdp: string): Promise<void> {
    if (client.peer || client.pending) return send(client, errorMessage('PROTOCOL', "this socket already has a peer connection; send 'close' first"));
    const pendingCount = [...clients].filter((c) => c.pending).length;
    if (peers.size + pendingCount >= settings.maxPeers) {
      return send(client, errorMessage('RESOURCE_EXHAUSTED', `server is full: ${settings.maxPeers} peer connection(s) at most`));
    }
    const peerId = `peer-${nextPeer++}`;
    client.pending = true;
    let timer: NodeJS.Timeout | undefined;
    const clearTimer = (): void => {
      if (timer === undefined) return;
      clearTimeout(timer);
      timer = undefined;
      timers--;
    };
    // Candidates found while the answer is being made must follow the answer: the browser rejects a candidate that
    // arrives before its remote description.
    let answered = false;
    const localCandidates: IceCandidateJson[] = [];
    let answer: { peer: PeerSession; sdp: string };
    try {
      answer = await PeerSession.answer(sdp, {
        peerId,
        pipeline,
        loopbackOnly,
        maxQueuedMs: settings.maxQueuedMs,
        bargeIn: settings.bargeIn,
        clock,
        warn,
        onLocalCandidate: (candidate) => (answered ? send(client, { type: 'ice-candidate', candidate }) : localCandidates.push(candidate)),
        onConnected: clearTimer,
        onClosed: (reason) => {
          clearTimer();
          peers.delete(peerId);
          if (client.peer?.info().id === peerId) client.peer = undefined;
          send(client, { type: 'close', reason });
        },
      });
    } catch (e) {
      client.pending = false;
      client.earlyCandidates.length = 0;
      return send(client, errorMessage('INVALID_INPUT', `could not answer the offer: ${errorToData(e).message}`));
    }
    client.pending = false;
    const { peer } = answer;
    if (client.ws.readyState !== client.ws.OPEN) {
      peer.close('signaling closed');
      return;
    }
    client.peer = peer;
    peers.set(peerId, peer);
    timers++;
    timer = setTimeout(() => {
      timer = undefined;
      timers--;
      send(client, errorMessage('DEADLINE_EXCEEDED', `peer did not connect within ${settings.connectTimeoutMs} ms`));
      peer.close('connect timeout');
    }, settings.connectTimeoutMs);
    send(client, { type: 'answer', sdp: answer.sdp, peerId });
    answered = true;
    for (const candidate of localCandidates.splice(0)) send(client, { type: 'ice-candidate', candidate });
    for (const candidate of client.earlyCandidates.splice(0)) {
      await peer.addIceCandidate(candidate).catch((e: unknown) => send(client, errorMessage('INVALID_INPUT', `bad ICE candidate: ${errorToData(e).message}`)));
    }
  }

  function health(): WebRtcHealth {
    return { status: 'ok', activeConnections: peers.size, websocketConnections: clients.size };
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(settings.port, settings.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const hostForUrl = settings.host === '0.0.0.0' ? '127.0.0.1' : settings.host;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${hostForUrl}:${port}/`,
    port,
    health,
    connections: () => [...peers.values()].map((p) => p.info()),
    resources: () => ({
      peers: livePeerConnections(),
      ...liveVoiceSessionResources(),
      opusCodecs: liveOpusCodecs(),
      websockets: clients.size,
      timers: timers + (clockRunning ? 1 : 0),
    }),
    close: () =>
      (closing ??= (async () => {
        for (const peer of [...peers.values()]) peer.close('server closing');
        for (const client of clients) client.ws.terminate();
        clients.clear();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      })()),
  };
}
