/**
 * A background prober for abuse cases: calls `probe()` every `intervalMs` while an attack runs and records how long
 * each answer took, so a case can assert the target kept answering promptly throughout.
 */
import { expect } from 'vitest';

/** What a prober saw between {@link Prober.start} and {@link Prober.stop}. */
export interface ProbeResult {
  readonly latenciesMs: number[];
  readonly maxMs: number;
  readonly count: number;
  readonly failures: number;
}

export class Prober {
  private probing = false;
  private latencies: number[] = [];
  private failures = 0;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly probe: () => Promise<unknown>,
    private readonly intervalMs = 20,
  ) {}

  /** Starts probing (clears earlier results); idempotent while running. */
  start(): void {
    this.latencies = [];
    this.failures = 0;
    if (this.probing) return;
    this.probing = true;
    this.loop = this.run();
  }

  /** Stops probing and returns what was seen since {@link start}. */
  async stop(): Promise<ProbeResult> {
    this.probing = false;
    await this.loop;
    const latenciesMs = this.latencies;
    return { latenciesMs, maxMs: latenciesMs.length === 0 ? 0 : Math.max(...latenciesMs), count: latenciesMs.length, failures: this.failures };
  }

  private async run(): Promise<void> {
    while (this.probing) {
      const start = performance.now();
      try {
        await this.probe();
        this.latencies.push(performance.now() - start);
      } catch {
        this.failures++;
      }
      await new Promise((r) => setTimeout(r, this.intervalMs));
    }
  }
}

/** Asserts no probe failed and the slowest answered within `boundMs`. */
export function expectPromptProbes(result: Pick<ProbeResult, 'maxMs' | 'failures'>, boundMs: number, what: string): void {
  expect(result.failures, `${what} probes that failed during the attack`).toBe(0);
  expect(result.maxMs, `slowest ${what} answer during the attack (bound ${boundMs} ms)`).toBeLessThan(boundMs);
}
