/**
 * `npm run soak`: a bounded load test on loopback that stops by itself (default 120 s of load, then a drain check).
 * One executor child process; 50 concurrent client streams, each sending real-time 20 ms 16 kHz frames (one per
 * 20 ms) through channelMix → energyVad → passThrough for 1–5 s, then ending in one of three ways (complete 70 %,
 * unsubscribe 20 %, upstream error 10 %) and being replaced at once (client churn); every 10th replacement also
 * opens a proxy session (create a Counter, call it, close or abandon the connection). Samples the executor's RSS
 * (GetStatus) every 5 s, and at the end checks that no stream or session leaked (activeStreams, activeSessions,
 * inFlight all 0 via GetStatus). Writes the `soak` section of bench/RESULTS.md; exits 1 on a leak.
 *   npx tsx bench/soak.ts [seconds=120] [streams=50]
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, throwError, concat, type Observable } from 'rxjs';
import { benchChain, benchFrame } from '../bin/cli/benchWorkload.js';
import { fromAsyncIterable } from '../src/flow/pullable.js';
import type { AudioFrame } from '../src/media/audioFrame.js';
import { connect, executorStatus, remote, type ExecutorStatus } from '../src/remote/index.js';
import { machine, writeResultsSection } from './lib.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.argv[2] ?? 120);
const STREAMS = Number(process.argv[3] ?? 50);
const SAMPLE_MS = 5_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Deterministic pseudo-random numbers (the run is repeatable). */
let seed = 42;
const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

const counts = { completed: 0, unsubscribed: 0, erroredByClient: 0, failedUnexpectedly: 0, frames: 0, sessions: 0, abandonedSessions: 0, proxyCalls: 0 };
const unexpected: string[] = [];

/** Real-time frames: one every 20 ms, `n` of them. */
function liveFrames(n: number): Observable<AudioFrame> {
  return fromAsyncIterable(
    (async function* () {
      for (let i = 0; i < n; i++) {
        yield benchFrame(i);
        await sleep(20);
      }
    })(),
  );
}

async function oneStream(address: string): Promise<void> {
  const frames = 50 + Math.floor(random() * 200);
  const ending = random();
  if (ending < 0.7) {
    await lastValueFrom(liveFrames(frames).pipe(remote({ address, window: 16 }, ...benchChain())), { defaultValue: undefined });
    counts.completed++;
  } else if (ending < 0.9) {
    await new Promise<void>((resolve) => {
      const subscription = liveFrames(frames).pipe(remote({ address, window: 16 }, ...benchChain())).subscribe({ error: () => resolve(), complete: () => resolve() });
      setTimeout(() => {
        subscription.unsubscribe();
        resolve();
      }, 10 + Math.floor(random() * frames * 20));
    });
    counts.unsubscribed++;
  } else {
    const failing = concat(liveFrames(Math.floor(frames / 2)), throwError(() => new Error('client-side failure')));
    await lastValueFrom(failing.pipe(remote({ address, window: 16 }, ...benchChain()))).catch((e: unknown) => {
      if ((e as Error).message !== 'client-side failure') throw e;
    });
    counts.erroredByClient++;
  }
  counts.frames += frames;
}

async function oneSession(address: string): Promise<void> {
  const client = await connect({ address });
  const counter = (await client.createProxy('Counter', 0)) as unknown as { increment(by?: number): Promise<number> };
  const calls = 1 + Math.floor(random() * 20);
  for (let i = 0; i < calls; i++) await counter.increment();
  counts.proxyCalls += calls;
  counts.sessions++;
  // Half release the object first; the rest just close the connection (the executor must free what it held).
  if (random() < 0.5) await (counter as unknown as AsyncDisposable)[Symbol.asyncDispose]();
  else counts.abandonedSessions++;
  await client.close();
}

async function worker(address: string, deadline: number, index: number): Promise<void> {
  let n = 0;
  while (performance.now() < deadline) {
    try {
      await oneStream(address);
      if (++n % 10 === index % 10) await oneSession(address);
    } catch (e) {
      counts.failedUnexpectedly++;
      if (unexpected.length < 5) unexpected.push((e as Error).message);
    }
  }
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, ['--no-node-snapshot', '--import', 'tsx', 'executor/main.ts', '--port', '0', '--log-level', 'warn', '--max-streams', String(STREAMS + 14), '--module', './bench/baselines/counterClass.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { listening: string }).listening));
    child.once('exit', (code) => reject(new Error(`executor exited with ${code}`)));
  });
  const samples: { t: number; rssMiB: number; activeStreams: number; totalStreams: number }[] = [];
  const started = performance.now();
  const sample = async (): Promise<ExecutorStatus> => {
    const s = await executorStatus({ address });
    samples.push({ t: Math.round((performance.now() - started) / 1000), rssMiB: Math.round(s.rssBytes / 1024 / 1024), activeStreams: s.activeStreams, totalStreams: s.totalStreams });
    process.stderr.write(`[soak] t=${samples.at(-1)!.t}s rss=${samples.at(-1)!.rssMiB} MiB active=${s.activeStreams} total=${s.totalStreams} sessions=${s.activeSessions}\n`);
    return s;
  };
  try {
    await sample();
    const sampler = setInterval(() => void sample(), SAMPLE_MS);
    const deadline = started + SECONDS * 1000;
    await Promise.all(Array.from({ length: STREAMS }, (_, i) => worker(address, deadline, i)));
    clearInterval(sampler);
    // Drained: cancelled calls and closed sessions are freed on the executor within a second or two.
    let final = await sample();
    const drainStart = performance.now();
    while ((final.activeStreams > 0 || final.activeSessions > 0 || final.inFlight > 0) && performance.now() - drainStart < 10_000) {
      await sleep(250);
      final = await executorStatus({ address });
    }
    const drainMs = Math.round(performance.now() - drainStart);
    final = await sample();
    const leaked = final.activeStreams + final.activeSessions + final.inFlight + (final.activeObjects ?? 0);
    const rss = samples.map((s) => s.rssMiB);
    const warm = samples.filter((s) => s.t >= 20).map((s) => s.rssMiB);
    const afterWarmup = warm.length > 0 ? warm : rss;
    const summary = {
      seconds: SECONDS,
      concurrentStreams: STREAMS,
      ...counts,
      totalStreams: final.totalStreams,
      failedStreams: final.failedStreams,
      rssMiB: { first: rss[0], peak: Math.max(...rss), last: rss.at(-1), minAfter20s: Math.min(...afterWarmup), maxAfter20s: Math.max(...afterWarmup) },
      final: { activeStreams: final.activeStreams, activeSessions: final.activeSessions, activeObjects: final.activeObjects ?? 0, inFlight: final.inFlight, drainMs },
      leaked,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    const every = Math.max(1, Math.round(samples.length / 12));
    writeResultsSection(
      'soak',
      [
        `Run ${new Date().toISOString().slice(0, 10)} on ${machine()}. \`npm run soak\` (${SECONDS} s, ${STREAMS} concurrent streams): one executor child process on loopback; each client stream sends real-time 20 ms 16 kHz frames through channelMix → energyVad → passThrough for 1–5 s, then completes (70 %), unsubscribes (20 %) or fails upstream (10 %) and is replaced; every 10th replacement also opens a proxy session (Counter; half released, half abandoned by closing the connection).`,
        '',
        `Streams: ${final.totalStreams} opened (${counts.completed} completed, ${counts.unsubscribed} unsubscribed, ${counts.erroredByClient} failed by the client), ${counts.failedUnexpectedly} unexpected client errors${unexpected.length > 0 ? ` (${unexpected.join('; ')})` : ''}; ${counts.sessions} proxy sessions, ${counts.proxyCalls} proxied calls.`,
        '',
        '| t (s) | executor RSS (MiB) | active streams | streams so far |',
        '|---:|---:|---:|---:|',
        ...samples.filter((_, i) => i % every === 0 || i === samples.length - 1).map((s) => `| ${s.t} | ${s.rssMiB} | ${s.activeStreams} | ${s.totalStreams} |`),
        '',
        `RSS after warm-up (t ≥ 20 s): ${summary.rssMiB.minAfter20s}–${summary.rssMiB.maxAfter20s} MiB; peak ${summary.rssMiB.peak} MiB.`,
        `End state (GetStatus, ${drainMs} ms after the last client finished): activeStreams ${final.activeStreams}, activeSessions ${final.activeSessions}, activeObjects ${final.activeObjects ?? 0}, inFlight ${final.inFlight} → **${leaked === 0 ? 'zero leaked streams/sessions' : `${leaked} LEAKED`}**.`,
      ].join('\n'),
    );
    process.exitCode = leaked === 0 && counts.failedUnexpectedly === 0 ? 0 : 1;
  } finally {
    child.kill('SIGTERM');
  }
}

await main();
