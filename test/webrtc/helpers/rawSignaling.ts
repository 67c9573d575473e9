/**
 * A signaling client as an outsider would write it: a raw `ws` socket (optionally from another loopback address) that
 * records every server message and the close code, plus SDP offers made by a throwaway werift peer.
 */
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import WebSocket from 'ws';

export interface RawSocket {
  readonly ws: WebSocket;
  readonly messages: Array<Record<string, unknown>>;
  /** Resolves with the close code once the socket is closed. */
  readonly closed: Promise<number>;
  send(message: unknown): void;
  errors(): Array<Record<string, unknown>>;
  waitFor(check: (messages: Array<Record<string, unknown>>) => boolean, ms?: number, what?: string): Promise<void>;
}

/** Opens `/ws` of the server at `url` (http://…/); `localAddress` picks the client's source address (e.g. 127.0.0.2). */
export async function rawSocket(url: string, localAddress?: string): Promise<RawSocket> {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + 'ws', localAddress ? { localAddress } : {});
  const messages: Array<Record<string, unknown>> = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>));
  ws.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve) => {
    ws.once('open', () => resolve());
    ws.once('close', () => resolve());
  });
  return {
    ws,
    messages,
    closed,
    send: (message) => {
      if (ws.readyState === ws.OPEN) ws.send(typeof message === 'string' ? message : JSON.stringify(message));
    },
    errors: () => messages.filter((m) => m.type === 'error'),
    async waitFor(check, ms = 5000, what = 'messages') {
      const end = performance.now() + ms;
      while (!check(messages)) {
        if (performance.now() > end) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages.map((m) => m.type))}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

let cachedOffer: string | undefined;

/** A real offer (audio + 'messages' data channel, loopback candidates) from a werift peer that is closed at once. */
export async function weriftOffer(): Promise<string> {
  if (cachedOffer !== undefined) return cachedOffer;
  const pc = new RTCPeerConnection({
    codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2 })] },
    iceServers: [],
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
  });
  pc.addTransceiver('audio', { direction: 'sendrecv' });
  pc.createDataChannel('messages');
  await pc.setLocalDescription(await pc.createOffer());
  cachedOffer = pc.localDescription!.sdp;
  await pc.close();
  return cachedOffer;
}

/**
 * An offer werift accepts but whose ICE fails while the answer is being made: no usable candidate, yet
 * `a=end-of-candidates`, so werift's ICE agent has nothing to check and fails at once, and the peer closes before
 * `PeerSession.answer` resolves — the race of issue #11. `host` replaces the candidates' address (default: none kept).
 */
export async function offerFailingDuringAnswer(host?: string): Promise<string> {
  return (await weriftOffer())
    .split('\r\n')
    .filter((line) => host !== undefined || !line.startsWith('a=candidate:'))
    .map((line) => (host !== undefined && line.startsWith('a=candidate:') ? line.replace(/ \d+\.\d+\.\d+\.\d+ /, ` ${host} `) : line))
    .join('\r\n');
}
