/**
 * One fixture for WebRTC server specs: servers, werift client peers and raw signaling sockets made through it are
 * closed after each test (sockets first, then peers, then servers).
 */
import { afterEach } from 'vitest';
import { startWebRtcServer, type WebRtcServer, type WebRtcServerOptions } from '../../../src/media/webrtc/server.js';
import { echoUtterances } from './echoPipeline.js';
import { rawSocket, type RawSocket } from './rawSignaling.js';
import { WeriftClient } from './weriftClient.js';

export interface WebRtcFixture {
  /** A server on port 0 (echo pipeline, warnings muted unless given). */
  server(options?: Partial<WebRtcServerOptions>): Promise<WebRtcServer>;
  /** A werift client peer; `connect: false` opens signaling only. */
  client(url: string, connect?: boolean): Promise<WeriftClient>;
  /** A raw signaling socket, optionally from another local address (e.g. 127.0.0.2). */
  socket(server: WebRtcServer, localAddress?: string): Promise<RawSocket>;
}

/** Registers the cleanup with `afterEach` of the calling spec file. */
export function useWebRtcFixture(): WebRtcFixture {
  const servers: WebRtcServer[] = [];
  const sockets: RawSocket[] = [];
  const clients: WeriftClient[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.ws.terminate();
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return {
    async server(options = {}) {
      const s = await startWebRtcServer({ port: 0, pipeline: echoUtterances(), warn: () => undefined, ...options });
      servers.push(s);
      return s;
    },
    async client(url, connect = true) {
      const c = connect ? await WeriftClient.connect(url) : await WeriftClient.open(url);
      clients.push(c);
      return c;
    },
    async socket(server, localAddress) {
      const r = await rawSocket(server.url, localAddress);
      sockets.push(r);
      return r;
    },
  };
}

/** Polls `check` every 10 ms until it holds, or throws naming `what`. */
export async function until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
