/**
 * The WebRTC server under attack: a real server in this process (port 0, a passthrough pipeline), with a background
 * prober that GETs /health every 20 ms and records how long each answer took. Every abuse case ends with
 * {@link WebRtcTarget.assertHealthy}: every probe answered within the bound, RSS under the stated bound, and every
 * live-resource counter back to zero. (In-process: an unhandled error would fail the run, vitest reports it.)
 */
import type { Observable } from 'rxjs';
import { expect } from 'vitest';
import type { AudioFrame } from '../../../src/media/audioFrame.js';
import { expectPromptProbes, Prober, type ProbeResult } from './prober.js';
import { startWebRtcServer, type WebRtcResources, type WebRtcServer, type WebRtcServerOptions } from '../../../src/media/webrtc/server.js';
/**
 * Longest a /health probe may take while an attack runs. The executor's bound is 100 ms (`PROBE_BOUND_MS`), measured
 * from another process; here the attacker (fast-check, ws clients, werift client peers) shares the server's event
 * loop and both share 2 cores with other test runs, so the probe also waits for the attacker's own work. Measured:
 * 100–230 ms worst case per case on a loaded 2-core machine; a server stalled by one input would exceed this at once.
 */
export const PROBE_BOUND_MS = 300;

export interface WebRtcTarget {
  readonly server: WebRtcServer;
  readonly url: string;
  startProbing(): void;
  stopProbing(): Promise<ProbeResult>;
  /** Probes within {@link PROBE_BOUND_MS}, RSS below `rssBoundBytes`, counters back to zero within `withinMs`. */
  assertHealthy(options: { rssBoundBytes: number; probe?: { maxMs: number; failures: number }; withinMs?: number }): Promise<WebRtcResources>;
  close(): Promise<void>;
}

/** Starts the server with a passthrough pipeline and short timeouts (so every case settles in about a second). */
export async function startWebRtcTarget(options: Partial<WebRtcServerOptions> = {}): Promise<WebRtcTarget> {
  const server = await startWebRtcServer({
    port: 0,
    pipeline: (input$: Observable<AudioFrame>) => input$,
    warn: () => undefined,
    connectTimeoutMs: 1_000,
    signalingTimeoutMs: 1_000,
    ...options,
  });
  // The first fetch sets up undici's connection pool (~100 ms); not the server's latency.
  await (await fetch(`${server.url}health`)).json();
  const prober = new Prober(async () => (await fetch(`${server.url}health`)).json());
  const target: WebRtcTarget = {
    server,
    url: server.url,
    startProbing: () => prober.start(),
    stopProbing: () => prober.stop(),
    async assertHealthy({ rssBoundBytes, probe, withinMs = 5_000 }) {
      if (probe !== undefined) expectPromptProbes(probe, PROBE_BOUND_MS, '/health');
      const end = performance.now() + withinMs;
      let r = server.resources();
      const settled = (x: WebRtcResources) =>
        x.peers === 0 && x.peerSlots === 0 && x.answering === 0 && x.sessions === 0 && x.pipelines === 0 && x.websockets === 0 && x.addresses === 0 && x.timers === 0 && x.socketTimers === 0;
      while (!settled(r) && performance.now() < end) {
        await new Promise((res) => setTimeout(res, 20));
        r = server.resources();
      }
      expect(r, 'live counters back to zero').toMatchObject({ peers: 0, peerSlots: 0, answering: 0, sessions: 0, pipelines: 0, websockets: 0, addresses: 0, timers: 0, socketTimers: 0 });
      const rss = process.memoryUsage().rss;
      expect(rss, `RSS ${(rss / 2 ** 20).toFixed(0)} MB`).toBeLessThan(rssBoundBytes);
      return r;
    },
    async close() {
      await prober.stop();
      await server.close();
    },
  };
  return target;
}
