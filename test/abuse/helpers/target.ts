/**
 * The executor under attack: a real executor in a child process (so a crash is an exit code and RSS is its own),
 * with a background prober that calls `GetStatus` every 20 ms and records how long each answer took. Every abuse case
 * ends with {@link AbuseTarget.assertHealthy}: the process is alive, it answered every probe within the bound, RSS
 * stayed under the stated bound, and every live-resource counter is back to its baseline.
 */
import { expect } from 'vitest';
import { childExecutor, type TestExecutor } from '../../remote/helpers/executors.js';
import type { ExecutorStatus } from '../../../src/remote/index.js';
import { expectPromptProbes, Prober, type ProbeResult } from './prober.js';

/** Longest a GetStatus probe may take while an attack runs (the "answers other clients within 100 ms"). */
export const PROBE_BOUND_MS = 100;

export interface AbuseTarget {
  readonly executor: TestExecutor;
  readonly address: string;
  /** Current status (fresh call). */
  status(): Promise<ExecutorStatus>;
  /** Starts recording probe latencies from now on (clears earlier ones). */
  startProbing(): void;
  /** Stops the prober; returns the latencies seen (ms) and probes that failed. */
  stopProbing(): Promise<ProbeResult>;
  /** Waits until `check(status)` holds (polling), or fails naming what it last saw. */
  until(check: (s: ExecutorStatus) => boolean, withinMs?: number, what?: string): Promise<ExecutorStatus>;
  /**
   * The health contract: alive, probes answered within {@link PROBE_BOUND_MS}, RSS below `rssBoundBytes`, and the
   * live counters back to zero (streams, in flight, sessions, objects, session calls; pooled isolates ≤ `idleIsolates`).
   */
  assertHealthy(options: { rssBoundBytes: number; idleIsolates?: number; probe?: { maxMs: number; failures: number } }): Promise<ExecutorStatus>;
  /**
   * Runs one attack while probing, then {@link assertHealthy} with `rssBoundBytes` (the probe bound checked unless
   * `probed` is false: for a case whose own legitimate work is known to take longer, said where it is used).
   */
  attack(run: () => Promise<void>, options: { rssBoundBytes: number; probed?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** Starts a child executor with `flags` (CLI flags, e.g. ['--open-timeout-ms', '500']). */
export async function startAbuseTarget(flags: string[] = []): Promise<AbuseTarget> {
  const executor = await childExecutor(flags);
  const prober = new Prober(() => executor.status());
  const target: AbuseTarget = {
    executor,
    address: executor.address,
    status: () => executor.status(),
    startProbing: () => prober.start(),
    stopProbing: () => prober.stop(),
    async until(check, withinMs = 5000, what = 'condition') {
      const start = performance.now();
      let last: ExecutorStatus | undefined;
      while (performance.now() - start < withinMs) {
        last = await executor.status();
        if (check(last)) return last;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`${what} not reached within ${withinMs} ms; last status: ${JSON.stringify(last && liveCounters(last))}`);
    },
    async assertHealthy({ rssBoundBytes, idleIsolates = 4, probe }) {
      expect(executor.child?.exitCode ?? null, 'executor process exited').toBeNull();
      expect(executor.child?.signalCode ?? null, 'executor process was killed').toBeNull();
      if (probe !== undefined) expectPromptProbes(probe, PROBE_BOUND_MS, 'GetStatus');
      const settled = await target.until(
        (s) => s.activeStreams === 0 && s.inFlight === 0 && s.activeSessions === 0 && (s.activeObjects ?? 0) === 0 && s.sessionCalls === 0 && s.liveIsolates <= idleIsolates,
        10_000,
        'live counters back to zero',
      );
      expect(settled.rssBytes, `executor RSS ${(settled.rssBytes / 2 ** 20).toFixed(0)} MB`).toBeLessThan(rssBoundBytes);
      return settled;
    },
    async attack(run, { rssBoundBytes, probed = true }) {
      prober.start();
      try {
        await run();
      } finally {
        const probe = await prober.stop();
        await target.assertHealthy({ rssBoundBytes, ...(probed && { probe }) });
      }
    },
    async close() {
      await prober.stop();
      await executor.close();
    },
  };
  return target;
}

/** The counters {@link AbuseTarget.assertHealthy} checks, for failure messages. */
export function liveCounters(s: ExecutorStatus): Record<string, number> {
  return {
    activeStreams: s.activeStreams,
    inFlight: s.inFlight,
    activeSessions: s.activeSessions,
    activeObjects: s.activeObjects ?? 0,
    sessionCalls: s.sessionCalls,
    liveIsolates: s.liveIsolates,
    rssMB: Math.round(s.rssBytes / 2 ** 20),
  };
}

/** 1 MiB, for RSS bounds. */
export const MB = 2 ** 20;
