/**
 * The WebRTC server under attack: a real server in a child process (`fixtures/webrtcServer.ts` under tsx: port 0, a
 * passthrough pipeline; so a crash is an exit code, RSS is its own, and the attacker's work in this process is not
 * the server's event loop), with a background prober that GETs /health every 20 ms and records how long each answer
 * took. Every abuse case ends with {@link WebRtcTarget.assertHealthy}: the process is alive, every probe answered
 * within {@link PROBE_BOUND_MS} (the executor's bound), RSS under the stated bound, and every live-resource counter
 * back to zero. Resources, RSS and the server's event-loop delay come over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { WebRtcResources, WebRtcServerSettingsInput } from '../../../src/media/webrtc/server.js';
import { ROOT } from '../../remote/helpers/executors.js';
import { expectPromptProbes, Prober, type ProbeResult } from './prober.js';
import { PROBE_BOUND_MS } from './target.js';

export { PROBE_BOUND_MS };

const SERVER_SCRIPT = fileURLToPath(new URL('../fixtures/webrtcServer.ts', import.meta.url));
const REQUEST_TIMEOUT_MS = 5_000;

/** What the child reports: the server's live resources, the process's RSS, its event-loop delay max (ms). */
export interface WebRtcChildStatus {
  readonly resources: WebRtcResources;
  readonly rss: number;
  /** Since the last {@link WebRtcTarget.startProbing} (or since start). */
  readonly loopDelayMaxMs: number;
}

export interface WebRtcTarget {
  readonly child: ChildProcess;
  readonly url: string;
  /** The server's live resources now (over IPC). */
  resources(): Promise<WebRtcResources>;
  /** Resources, RSS and event-loop delay of the server process (over IPC). */
  status(): Promise<WebRtcChildStatus>;
  /** Starts recording probe latencies (clears earlier ones) and resets the server's event-loop delay max. */
  startProbing(): void;
  stopProbing(): Promise<ProbeResult>;
  /** Alive, probes within {@link PROBE_BOUND_MS}, RSS below `rssBoundBytes`, counters back to zero within `withinMs`. */
  assertHealthy(options: { rssBoundBytes: number; probe?: { maxMs: number; failures: number }; withinMs?: number }): Promise<WebRtcResources>;
  close(): Promise<void>;
}

const settled = (r: WebRtcResources): boolean =>
  r.peers === 0 && r.peerSlots === 0 && r.answering === 0 && r.sessions === 0 && r.pipelines === 0 && r.websockets === 0 && r.addresses === 0 && r.timers === 0 && r.socketTimers === 0;

/** Starts the server in a child with short timeouts (so every case settles in about a second), plus `settings`. */
export async function startWebRtcTarget(settings: WebRtcServerSettingsInput = {}): Promise<WebRtcTarget> {
  const child = fork(SERVER_SCRIPT, [JSON.stringify(settings)], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pending = new Map<number, { resolve: (s: WebRtcChildStatus) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  child.on('message', (m: { id?: number } & Partial<WebRtcChildStatus>) => {
    if (m.id === undefined) return;
    pending.get(m.id)?.resolve(m as WebRtcChildStatus);
    pending.delete(m.id);
  });
  child.once('exit', (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`WebRTC server process exited (${signal ?? code})`));
    pending.clear();
  });
  const alive = () => child.exitCode === null && child.signalCode === null;

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('WebRTC server process did not start within 20 s')), 20_000);
    const onMessage = (m: { url?: string }) => {
      if (m.url === undefined) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(m.url);
    };
    child.on('message', onMessage);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`WebRTC server process exited (${signal ?? code}) before listening`));
    });
  });

  const status = (): Promise<WebRtcChildStatus> =>
    new Promise((resolve, reject) => {
      if (!alive()) return reject(new Error('WebRTC server process is not running'));
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`WebRTC server process did not answer within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      pending.set(id, {
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.send({ id, type: 'resources' });
    });

  // The first fetch sets up undici's connection pool (~100 ms); not the server's latency.
  await (await fetch(`${url}health`)).json();
  const prober = new Prober(async () => (await fetch(`${url}health`)).json());
  return {
    child,
    url,
    status,
    resources: async () => (await status()).resources,
    startProbing() {
      if (alive()) child.send({ type: 'resetLoopDelay' });
      prober.start();
    },
    stopProbing: () => prober.stop(),
    async assertHealthy({ rssBoundBytes, probe, withinMs = 5_000 }) {
      expect(child.exitCode, 'WebRTC server process exited').toBeNull();
      expect(child.signalCode, 'WebRTC server process was killed').toBeNull();
      let s = await status();
      // The server's own event-loop delay names whether a slow probe was the server or the machine.
      if (probe !== undefined) expectPromptProbes(probe, PROBE_BOUND_MS, `/health (server event-loop delay max ${s.loopDelayMaxMs.toFixed(1)} ms)`);
      const end = performance.now() + withinMs;
      while (!settled(s.resources) && performance.now() < end) {
        await new Promise((res) => setTimeout(res, 20));
        s = await status();
      }
      expect(s.resources, 'live counters back to zero').toMatchObject({ peers: 0, peerSlots: 0, answering: 0, sessions: 0, pipelines: 0, websockets: 0, addresses: 0, timers: 0, socketTimers: 0 });
      expect(s.rss, `WebRTC server RSS ${(s.rss / 2 ** 20).toFixed(0)} MB`).toBeLessThan(rssBoundBytes);
      return s.resources;
    },
    async close() {
      await prober.stop();
      if (alive()) {
        child.send({ type: 'close' });
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
