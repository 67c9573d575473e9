/**
 * `startWebRtcServer()`: an HTTP server that serves the client page, signals over a WebSocket at `/ws`, reports
 * `/health` and `/connections`, and runs one werift peer (and one pipeline subscription) per browser.
 *
 * Every peer connection holds a *slot* from the moment its offer is accepted until werift reports it closed (whichever
 * side or failure closes it, also while the answer is still being made); slots, sockets and timers are counted per
 * server and per remote address, and `resources()` reports them for leak checks.
 * @module
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defer, finalize, share } from 'rxjs';
import { WebSocketServer, type WebSocket } from 'ws';
import { InvalidParamsError, RemoteMediaError } from '../../errors.js';
import { KeyedCounts } from '../../internal/keyedCounts.js';
import { parseParams } from '../../node.js';
import { defaultPageDir, httpRoutes } from './httpRoutes.js';
import { liveOpusCodecs } from './opusCodec.js';
import { pacedFrames } from './pacedFrames.js';
import { livePeerConnections, PeerSession, type PeerInfo } from './peerSession.js';
import type { WebRtcPipeline } from './pipelineTypes.js';
import {
  addressKey,
  clientErrorText,
  errorMessage,
  isLoopbackAddress,
  MAX_REMOTE_CANDIDATES,
  parseClientMessage,
  prepareOfferSdp,
  type IceCandidateJson,
  type ServerMessage,
} from './signaling.js';
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
  /** Peer connections held: answered, or still being answered. */
  readonly activeConnections: number;
  readonly websocketConnections: number;
}

/** Live resources of this process, for leak checks (all return to their baseline when every client is gone). */
export interface WebRtcResources {
  /** werift peer connections alive in this process. */
  readonly peers: number;
  /** Peer-connection slots of this server (answered or being answered); what `maxPeers` counts. */
  readonly peerSlots: number;
  /** Of those, the ones whose answer is still being made. */
  readonly answering: number;
  readonly sessions: number;
  readonly pipelines: number;
  readonly pacers: number;
  readonly detectors: number;
  readonly opusCodecs: number;
  /** Signaling sockets of this server (accepted, not yet closed). */
  readonly websockets: number;
  /** Remote addresses with a signaling socket open. */
  readonly addresses: number;
  /** Peer timers: connect timeouts pending, and the shared 20 ms clock while any peer plays. */
  readonly timers: number;
  /** Socket timers: signaling timeouts of sockets without a peer, and close-handshake grace timers. */
  readonly socketTimers: number;
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

/**
 * A socket the server closes (refused, timed out) that has not finished the close handshake after this long is
 * dropped. Without it a client that ignores close frames keeps the socket for ws's own 30 s.
 */
const CLOSE_GRACE_MS = 2_000;

/** WebSocket close codes the server uses. */
const CLOSE_POLICY = 1008;
const CLOSE_TRY_AGAIN_LATER = 1013;

interface Client {
  readonly ws: WebSocket;
  /** {@link addressKey} of the remote address. */
  readonly address: string;
  /** The peer connection of this socket (answered or being answered). */
  slot: Slot | undefined;
  /** Candidates that arrived while the answer was being made. */
  readonly earlyCandidates: IceCandidateJson[];
  /** Cancels the signaling timeout (running while the socket holds no slot). */
  cancelIdle: (() => void) | undefined;
  gone: boolean;
}

interface Slot {
  readonly peerId: string;
  readonly client: Client;
  readonly peer: PeerSession;
  answered: boolean;
  released: boolean;
  cancelConnect: () => void;
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
  const socketsPerAddress = new KeyedCounts<string>();
  const slots = new Map<string, Slot>();
  const closeGraces = new Map<WebSocket, () => void>();
  let nextPeer = 1;
  const counts = { timers: 0, socketTimers: 0 };
  let closing: Promise<void> | undefined;
  // One 20 ms timer for every peer of this server (instead of one each); it runs only while some peer subscribes.
  let clockRunning = false;
  const clock = defer(() => {
    clockRunning = true;
    return pacedFrames(() => undefined);
  }).pipe(
    finalize(() => (clockRunning = false)),
    share(),
  );

  /** A timeout counted in `counts[kind]`; the returned function cancels it (idempotent). */
  const timer = (kind: keyof typeof counts, ms: number, fire: () => void): (() => void) => {
    let handle: NodeJS.Timeout | undefined = setTimeout(() => {
      handle = undefined;
      counts[kind]--;
      fire();
    }, ms);
    counts[kind]++;
    return () => {
      if (handle === undefined) return;
      clearTimeout(handle);
      handle = undefined;
      counts[kind]--;
    };
  };

  const send = (ws: WebSocket, message: ServerMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };

  /** Starts the close handshake; drops the socket if the client does not finish it within {@link CLOSE_GRACE_MS}. */
  const closeSocket = (ws: WebSocket, code: number, reason: string): void => {
    ws.close(code, reason);
    if (closeGraces.has(ws) || ws.readyState === ws.CLOSED) return;
    const cancel = timer('socketTimers', CLOSE_GRACE_MS, () => {
      closeGraces.delete(ws);
      ws.terminate();
    });
    closeGraces.set(ws, cancel);
    ws.once('close', () => {
      closeGraces.delete(ws);
      cancel();
    });
  };

  const http = createServer(httpRoutes({ pageDir, health, connections }));
  // One signaling message per event-loop turn (ws defaults to every message of a TCP read in one turn): 1000 frames in
  // one read held the loop ~100 ms, each one parsed, refused and answered with its own write, and /health waited.
  const wss = new WebSocketServer({ noServer: true, maxPayload: settings.maxMessageBytes, allowSynchronousEvents: false });

  http.on('upgrade', (req, socket, head) => {
    if ((req.url ?? '').split('?')[0] !== '/ws' || closing) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    const address = addressKey(req.socket.remoteAddress);
    wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws, address));
  });

  function onSocket(ws: WebSocket, address: string): void {
    ws.on('error', (e) => warn(`[webrtc] signaling socket error: ${e.message}`));
    const refuse = (message: string): void => {
      send(ws, errorMessage('RESOURCE_EXHAUSTED', message));
      closeSocket(ws, CLOSE_TRY_AGAIN_LATER, 'too many connections');
    };
    if (closing) return ws.terminate();
    if (clients.size >= settings.maxWebSockets) {
      return refuse(`too many signaling connections: ${settings.maxWebSockets} at most (maxWebSockets)`);
    }
    if (socketsPerAddress.get(address) >= settings.maxWebSocketsPerAddress) {
      return refuse(`too many signaling connections from this address: ${settings.maxWebSocketsPerAddress} at most (maxWebSocketsPerAddress)`);
    }
    const client: Client = { ws, address, slot: undefined, earlyCandidates: [], cancelIdle: undefined, gone: false };
    clients.add(client);
    socketsPerAddress.increment(address);
    startIdle(client);
    ws.on('message', (data, isBinary) => {
      if (client.gone) return;
      if (isBinary) return send(ws, errorMessage('PROTOCOL', 'signaling messages are JSON text, not binary'));
      void onMessage(client, data.toString()).catch((e: unknown) => send(ws, errorMessage('INTERNAL', clientErrorText(e, 'internal error'))));
    });
    ws.on('close', () => forget(client));
  }

  /** The socket is gone: stop its timer, give back its address count, close its peer. */
  function forget(client: Client): void {
    if (client.gone) return;
    client.gone = true;
    client.cancelIdle?.();
    client.cancelIdle = undefined;
    clients.delete(client);
    socketsPerAddress.decrement(client.address);
    client.slot?.peer.close('signaling closed');
  }

  /** (Re)starts the signaling timeout of a socket that holds no peer connection. */
  function startIdle(client: Client): void {
    if (client.gone || client.slot || client.cancelIdle) return;
    client.cancelIdle = timer('socketTimers', settings.signalingTimeoutMs, () => {
      client.cancelIdle = undefined;
      send(client.ws, errorMessage('DEADLINE_EXCEEDED', `no peer connection on this socket for ${settings.signalingTimeoutMs} ms (signalingTimeoutMs)`));
      closeSocket(client.ws, CLOSE_POLICY, 'signaling timeout');
    });
  }

  async function onMessage(client: Client, text: string): Promise<void> {
    const parsed = parseClientMessage(text);
    if (!parsed.ok) return send(client.ws, parsed.error);
    const message = parsed.message;
    switch (message.type) {
      case 'offer':
        return offer(client, message.sdp);
      case 'ice-candidate': {
        const slot = client.slot;
        if (!slot) return send(client.ws, errorMessage('PROTOCOL', "'ice-candidate' before 'offer'"));
        if (!slot.answered) {
          if (client.earlyCandidates.length >= MAX_REMOTE_CANDIDATES) {
            return send(client.ws, errorMessage('RESOURCE_EXHAUSTED', `more than ${MAX_REMOTE_CANDIDATES} ICE candidates before the answer`));
          }
          client.earlyCandidates.push(message.candidate);
          return;
        }
        return addCandidate(slot, message.candidate);
      }
      case 'close':
        client.slot?.peer.close('closed by client');
        return;
    }
  }

  async function addCandidate(slot: Slot, candidate: IceCandidateJson): Promise<void> {
    try {
      await slot.peer.addIceCandidate(candidate);
    } catch (e) {
      const code = e instanceof RemoteMediaError && e.code === 'RESOURCE_EXHAUSTED' ? 'RESOURCE_EXHAUSTED' : 'INVALID_INPUT';
      send(slot.client.ws, errorMessage(code, `bad ICE candidate: ${clientErrorText(e, 'malformed candidate')}`));
    }
  }

  async function offer(client: Client, sdp: string): Promise<void> {
    if (client.slot) return send(client.ws, errorMessage('PROTOCOL', "this socket already has a peer connection; send 'close' first"));
    const prepared = prepareOfferSdp(sdp, loopbackOnly);
    if (!prepared.ok) return send(client.ws, prepared.error);
    if (slots.size >= settings.maxPeers) {
      return send(client.ws, errorMessage('RESOURCE_EXHAUSTED', `server is full: ${settings.maxPeers} peer connection(s) at most (maxPeers)`));
    }
    const fromAddress = [...slots.values()].filter((s) => s.client.address === client.address).length;
    if (fromAddress >= settings.maxPeersPerAddress) {
      return send(client.ws, errorMessage('RESOURCE_EXHAUSTED', `too many peer connections from this address: ${settings.maxPeersPerAddress} at most (maxPeersPerAddress)`));
    }
    const peerId = `peer-${nextPeer++}`;
    // Candidates found while the answer is being made must follow the answer: the browser rejects a candidate that
    // arrives before its remote description.
    let answered = false;
    const localCandidates: IceCandidateJson[] = [];
    const peer = PeerSession.create({
      peerId,
      pipeline,
      loopbackOnly,
      offeredCandidates: prepared.candidates,
      maxQueuedMs: settings.maxQueuedMs,
      bargeIn: settings.bargeIn,
      clock,
      warn,
      onLocalCandidate: (candidate) => (answered ? send(client.ws, { type: 'ice-candidate', candidate }) : localCandidates.push(candidate)),
      onConnected: () => slot.cancelConnect(),
      // Runs whenever the peer goes, also while its answer is still being made: the slot is released here and only here.
      onClosed: (reason) => release(slot, reason),
    });
    const slot: Slot = { peerId, client, peer, answered: false, released: false, cancelConnect: () => undefined };
    slots.set(peerId, slot);
    client.slot = slot;
    client.cancelIdle?.();
    client.cancelIdle = undefined;
    // From the offer on: also bounds an answer that never completes.
    slot.cancelConnect = timer('timers', settings.connectTimeoutMs, () => {
      send(client.ws, errorMessage('DEADLINE_EXCEEDED', `peer did not connect within ${settings.connectTimeoutMs} ms (connectTimeoutMs)`));
      peer.close('connect timeout');
    });
    let answerSdp: string;
    try {
      answerSdp = await peer.answer(prepared.sdp);
    } catch (e) {
      // The peer is closed and its slot released; a peer closed under the answer already said why ('close').
      if (!(e instanceof RemoteMediaError && e.code === 'UNAVAILABLE')) {
        send(client.ws, errorMessage('INVALID_INPUT', `could not answer the offer: ${clientErrorText(e, 'malformed SDP')}`));
      }
      return;
    }
    if (slot.released) return; // closed in the moment after its answer was made
    slot.answered = answered = true;
    send(client.ws, { type: 'answer', sdp: answerSdp, peerId });
    for (const candidate of localCandidates.splice(0)) send(client.ws, { type: 'ice-candidate', candidate });
    for (const candidate of client.earlyCandidates.splice(0)) await addCandidate(slot, candidate);
  }

  /** Gives back a peer's slot (once): its connect timer, its server and address counts; the socket's timeout restarts. */
  function release(slot: Slot, reason: string): void {
    if (slot.released) return;
    slot.released = true;
    slot.cancelConnect();
    slots.delete(slot.peerId);
    const { client } = slot;
    if (client.slot === slot) {
      client.slot = undefined;
      client.earlyCandidates.length = 0;
    }
    send(client.ws, { type: 'close', reason });
    startIdle(client);
  }

  function health(): WebRtcHealth {
    return { status: 'ok', activeConnections: slots.size, websocketConnections: clients.size };
  }

  function connections(): PeerInfo[] {
    return [...slots.values()].map((s) => s.peer.info());
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

  return {
    url: `http://${hostForUrl}:${port}/`,
    port,
    health,
    connections,
    resources: () => ({
      peers: livePeerConnections(),
      peerSlots: slots.size,
      answering: [...slots.values()].filter((s) => !s.answered).length,
      ...liveVoiceSessionResources(),
      opusCodecs: liveOpusCodecs(),
      websockets: clients.size,
      addresses: socketsPerAddress.size,
      timers: counts.timers + (clockRunning ? 1 : 0),
      socketTimers: counts.socketTimers,
    }),
    close: () =>
      (closing ??= (async () => {
        for (const slot of [...slots.values()]) slot.peer.close('server closing');
        for (const client of [...clients]) forget(client);
        for (const cancel of closeGraces.values()) cancel();
        closeGraces.clear();
        for (const ws of wss.clients) ws.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      })()),
  };
}
