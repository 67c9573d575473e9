/**
 * Scale-out on loopback: 3 executor processes, streams spread by the client (addresses rotation with failure skip,
 * and grpc-js round_robin over one multi-address target); killing one executor fails only its own streams, with
 * an UNAVAILABLE error naming it, and new streams go to the survivors.
 */
import { fileURLToPath } from 'node:url';
import { lastValueFrom, Subject, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passThrough } from '../../src/operators/core/passThrough.js';
import { unavailableAddresses } from '../../src/remote/channelPool.js';
import { connect, remote, type RemoteConfig } from '../../src/remote/index.js';
import { childExecutor, type TestExecutor } from '../remote/helpers/executors.js';

interface OpenStream {
  input: Subject<number>;
  result: Promise<number[] | Error>;
  settled: boolean;
}

function open(config: RemoteConfig): OpenStream {
  const input = new Subject<number>();
  const stream: OpenStream = { input, result: Promise.resolve([]), settled: false };
  stream.result = lastValueFrom(input.pipe(remote<number, number>(config, passThrough()), toArray()))
    .catch((e: unknown) => e as Error)
    .finally(() => (stream.settled = true));
  return stream;
}

async function until(check: () => Promise<boolean>, withinMs = 10_000): Promise<void> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > withinMs) throw new Error(`condition not met within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function activeCounts(executors: readonly TestExecutor[]): Promise<number[]> {
  return Promise.all(executors.map(async (e) => (await e.status()).activeStreams));
}

/** Finishes every stream with one item each and returns the results. */
async function finish(streams: readonly OpenStream[]): Promise<(number[] | Error)[]> {
  streams.forEach((s, i) => {
    s.input.next(i);
    s.input.complete();
  });
  return Promise.all(streams.map((s) => s.result));
}

describe.each([
  ['addresses rotation', (list: string[]): RemoteConfig => ({ addresses: list, deadlineMs: 5_000 })],
  ['grpc-js round_robin over one ipv4: target', (list: string[]): RemoteConfig => ({ address: `ipv4:${list.join(',')}`, deadlineMs: 5_000 })],
])('scale-out over 3 executor processes: %s', (_name, configFor) => {
  let executors: TestExecutor[] = [];
  beforeAll(async () => {
    executors = await Promise.all([childExecutor(), childExecutor(), childExecutor()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(executors.map((e) => e.close()));
  });

  it('30 streams land 10/10/10 (±2); killing one executor fails only its streams; new streams go to the survivors', async () => {
    const config = configFor(executors.map((e) => e.address));
    // grpc-js round_robin picks among READY connections: right after the channel is created the first calls go to
    // whichever executor connected first. Steady state (what a long-running client sees) is what is measured here.
    const warm = [open(config)];
    await until(async () => {
      if ((await Promise.all(executors.map((e) => e.status()))).every((s) => s.totalStreams > 0)) return true;
      warm.push(open(config));
      return false;
    });
    // The warm-up streams stay open meanwhile (the pooled channel closes with its last user).
    const base = await activeCounts(executors);
    const streams = Array.from({ length: 30 }, () => open(config));
    await until(async () => (await activeCounts(executors)).reduce((a, b) => a + b, 0) === 30 + warm.length);
    const counts = (await activeCounts(executors)).map((n, i) => n - base[i]!);
    expect((await finish(warm)).every((r) => Array.isArray(r))).toBe(true);
    for (const n of counts) expect(Math.abs(n - 10), `spread ${counts.join('/')}`).toBeLessThanOrEqual(2);

    // Which stream is on which executor: the victim's streams are those that fail.
    const [victim, ...survivors] = executors as [TestExecutor, TestExecutor, TestExecutor];
    const onVictim = counts[0]!;
    victim.child!.kill('SIGKILL');
    await victim.close();
    await until(async () => streams.filter((s) => s.settled).length === onVictim);
    // New streams (the client keeps running: its other streams stay open): all on the survivors, none fails.
    const before = await activeCounts(survivors);
    const fresh = Array.from({ length: 12 }, () => open(config));
    await until(async () => (await activeCounts(survivors)).reduce((a, b) => a + b, 0) === 12 + before[0]! + before[1]!);
    const survivorCounts = (await activeCounts(survivors)).map((n, i) => n - before[i]!);
    for (const n of survivorCounts) expect(Math.abs(n - 6), `spread ${survivorCounts.join('/')}`).toBeLessThanOrEqual(2);
    expect((await finish(fresh)).every((r) => Array.isArray(r))).toBe(true);

    const results = await finish(streams);
    const failed = results.filter((r): r is Error => r instanceof Error);
    expect(failed).toHaveLength(onVictim);
    for (const error of failed) {
      expect(error).toMatchObject({ code: 'UNAVAILABLE' });
      expect(error.message).toContain(config.address?.startsWith('ipv4:') ? `remote(${config.address})` : `remote(${victim.address})`);
    }
    expect(results.filter((r) => Array.isArray(r))).toHaveLength(30 - onVictim);
    results.forEach((r, i) => Array.isArray(r) && expect(r).toEqual([i]));
    if (!config.address?.startsWith('ipv4:')) expect(unavailableAddresses()).toContain(victim.address);
  }, 60_000);
});

describe('proxy sessions over several executors', () => {
  let executors: TestExecutor[] = [];
  beforeAll(async () => {
    const counter = fileURLToPath(new URL('../../bench/baselines/counterClass.ts', import.meta.url));
    executors = await Promise.all([0, 1, 2].map(() => childExecutor(['--module', counter])));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(executors.map((e) => e.close()));
  });

  it('each session stays pinned to the executor holding its object; a killed executor fails only its session', async () => {
    const addresses = executors.map((e) => e.address);
    const clients = await Promise.all([0, 1, 2].map(() => connect({ addresses, deadlineMs: 5_000 })));
    try {
      const counters = await Promise.all(clients.map(async (c, i) => (await c.createProxy('Counter', i * 100)) as unknown as { increment(): Promise<number> }));
      for (let k = 1; k <= 5; k++) expect(await Promise.all(counters.map((c) => c.increment()))).toEqual([k, 100 + k, 200 + k]);
      const sessions = await Promise.all(executors.map(async (e) => (await e.status()).activeSessions));
      expect(sessions).toEqual([1, 1, 1]);
      executors[1]!.child!.kill('SIGKILL');
      await executors[1]!.close();
      const after = await Promise.all(counters.map((c) => c.increment().catch((e: unknown) => e as Error)));
      expect(after[0]).toBe(6);
      expect(after[2]).toBe(206);
      expect(after[1]).toBeInstanceOf(Error);
      expect((after[1] as Error & { code?: string }).code).toMatch(/UNAVAILABLE|DEADLINE_EXCEEDED/);
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    }
  }, 60_000);
});
