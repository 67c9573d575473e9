/**
 * Abuse: the proxy `Session` RPC of a real executor (child process) attacked with raw grpc-js calls and real client
 * processes: idle calls that never open, a stopped client, the resume race, a pipelined-request flood, a killed
 * client, and the executor itself stopped and restarted. Each case ends with the health contract of
 * {@link AbuseTarget.assertHealthy}: alive, every concurrent GetStatus answered within 100 ms, RSS under the bound,
 * and every live counter (sessions, objects, session calls) back to zero.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, SessionNotFoundError } from '../../src/index.js';
import { decodePayload } from '../../src/remote/codec.js';
import type { Counter, Numbers } from '../proxy/fixtures/registered.js';
import { REGISTERED, ROOT } from '../proxy/helpers.js';
import { callRequest, createRequest, rawClient, rawSession, Status } from '../proxy/rawSession.js';
import { MB, startAbuseTarget, type AbuseTarget } from './helpers/target.js';

const CLIENT_SCRIPT = fileURLToPath(new URL('./fixtures/proxyClient.ts', import.meta.url));
const ATTACKER_SCRIPT = fileURLToPath(new URL('./fixtures/sessionAttacker.ts', import.meta.url));

/** Short clocks so every fault resolves in seconds: open timeout, keepalive ping and its timeout, reconnect TTL. */
const FLAGS = [
  '--module', REGISTERED,
  '--open-timeout-ms', '1000',
  '--max-session-calls-per-client', '64',
  '--max-pending-requests-per-call', '64',
  '--keepalive-time-ms', '1000',
  '--keepalive-timeout-ms', '1000',
  '--session-ttl-ms', '500',
];

/** RSS the executor (with the default VAD model preloaded) must stay under after any case here. */
const RSS_BOUND = 600 * MB;

let target: AbuseTarget;
beforeAll(async () => {
  target = await startAbuseTarget(FLAGS);
}, 30_000);
afterAll(async () => {
  await target?.close();
});

/** Starts the attacker script and waits until it is loaded; writing a line to its stdin starts the attack. */
async function attackerProcess(args: string[]): Promise<ReturnType<typeof spawnScript>> {
  const attacker = spawnScript(ATTACKER_SCRIPT, args);
  await attacker.line();
  return attacker;
}

/** A script run with tsx in its own process; `line()` resolves with the next stdout line parsed as JSON. */
function spawnScript(script: string, args: string[]): { child: ChildProcess; line<T>(): Promise<T> } {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const line = <T>(): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script}: no output within 30 s`)), 30_000);
      lines.once('line', (text) => {
        clearTimeout(timer);
        resolve(JSON.parse(text) as T);
      });
      child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    });
  return { child, line };
}

/** A proxy client in its own process (so it can be stopped or killed); resolves once its object exists. */
async function clientProcess(address: string): Promise<ChildProcess> {
  const client = spawnScript(CLIENT_SCRIPT, [address]);
  await client.line();
  return client.child;
}

async function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('abuse: Session calls', () => {
  it('2,000 Session calls that never open: at most 64 held (maxSessionCallsPerClient), the rest refused, the held ones closed after openTimeoutMs', async () => {
    const before = await target.status();
    const attacker = await attackerProcess(['idle', target.address, '2000']);
    target.startProbing();
    let peak = 0;
    const result = attacker.line<{ byCode: Record<string, number>; details: Record<string, string> }>();
    attacker.child.stdin!.write('go\n');
    for (let done = false; !done; ) {
      peak = Math.max(peak, (await target.status()).sessionCalls);
      done = await Promise.race([result.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20))]);
    }
    const { byCode, details } = await result;
    await killed(attacker.child);
    expect(peak).toBeLessThanOrEqual(64);
    expect(peak).toBeGreaterThan(32);
    // Every call was refused or timed out; slots freed by the 1 s open timeout are taken by later calls of the wave.
    expect(Object.keys(byCode).sort()).toEqual(['DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED']);
    expect(byCode['DEADLINE_EXCEEDED']! + byCode['RESOURCE_EXHAUSTED']!).toBe(2000);
    expect(byCode['DEADLINE_EXCEEDED']).toBeGreaterThanOrEqual(64);
    expect(details).toEqual({
      DEADLINE_EXCEEDED: 'no open message within 1000 ms (openTimeoutMs)',
      RESOURCE_EXHAUSTED: 'client 127.0.0.1 is at its limit of 64 open Session calls (maxSessionCallsPerClient)',
    });
    expect((await target.status()).rejectedCalls - before.rejectedCalls).toBe(2000);
    await target.assertHealthy({ rssBoundBytes: RSS_BOUND, probe: await target.stopProbing() });
  });

  it('a SIGSTOPped client: keepalive pings end its call, the session detaches and is disposed after the TTL', async () => {
    const client = await clientProcess(target.address);
    try {
      expect(await target.status()).toMatchObject({ activeSessions: 1, activeObjects: 1, sessionCalls: 1 });
      target.startProbing();
      client.kill('SIGSTOP');
      // keepalive 1000 + 1000 ms, then the 500 ms TTL: the stopped process never answers, its TCP stays open.
      await target.until((s) => s.activeSessions === 0 && s.activeObjects === 0 && s.sessionCalls === 0, 8000, 'stopped client freed');
      await target.assertHealthy({ rssBoundBytes: RSS_BOUND, probe: await target.stopProbing() });
    } finally {
      await killed(client);
    }
  });

  it('a SIGKILLed client: its call is cancelled, the session detaches and is disposed after the TTL', async () => {
    const client = await clientProcess(target.address);
    expect(await target.status()).toMatchObject({ activeSessions: 1, activeObjects: 1 });
    target.startProbing();
    await killed(client);
    await target.assertHealthy({ rssBoundBytes: RSS_BOUND, probe: await target.stopProbing() });
  });

  it('resume race: a second call resumes the session while the first is open; the first is ended, the objects survive it', async () => {
    target.startProbing();
    const grpc = rawClient(target.address);
    try {
      const first = rawSession(grpc);
      const id = await first.open();
      const objectId = (await first.ask(createRequest(2, 'Counter', [1]))).result!.handle;
      const second = rawSession(grpc);
      expect(await second.open(id)).toBe(id);
      expect(await first.ended).toMatchObject({ code: Status.FAILED_PRECONDITION, details: 'session resumed on another call; this call is closed' });
      // Twice the TTL after the old call ended: the session is still held by the new one.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await target.status()).toMatchObject({ activeSessions: 1, activeObjects: 1, sessionCalls: 1 });
      expect(decodePayload((await second.ask(callRequest(3, objectId, 'increment'))).result!.value)).toBe(2);
      second.send({ id: 4, close: {} });
      second.call.end();
      expect((await second.ended).code).toBe(Status.OK);
    } finally {
      grpc.close();
    }
    await target.assertHealthy({ rssBoundBytes: RSS_BOUND, probe: await target.stopProbing() });
  });

  it('pipelined flood: 20,000 requests read back are each answered (≤ 64 in progress, the rest refused); 100,000 never read cost bounded memory', async () => {
    const rssBefore = (await target.status()).rssBytes;
    const attacker = await attackerProcess(['flood', target.address, '20000']);
    target.startProbing();
    try {
      const result = attacker.line<{ slept: number; refused: number; refusal: string }>();
      attacker.child.stdin!.write('go\n');
      const { slept, refused, refusal } = await result;
      expect(slept + refused).toBe(20_000);
      expect(slept).toBeGreaterThanOrEqual(64);
      expect(refusal).toBe('this call is at its limit of 64 pending requests (maxPendingRequestsPerCall); wait for answers first');
      // The second call writes 1e5 invokes and never reads: the executor stops reading once its replies back up.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const during = await target.status();
      expect(during).toMatchObject({ activeSessions: 1, activeObjects: 1, sessionCalls: 1 });
      expect(during.rssBytes - rssBefore, 'executor RSS growth while 1e5 unread requests were sent').toBeLessThan(64 * MB);
    } finally {
      await killed(attacker.child);
    }
    await target.assertHealthy({ rssBoundBytes: RSS_BOUND, probe: await target.stopProbing() });
  });

  it('executor SIGSTOPped then resumed: a pending proxy call rejects at its deadline (no hang); after SIGCONT the client works again', async () => {
    const client = await connect({ address: target.address, deadlineMs: 1000 });
    try {
      const counter = await client.createProxy<Counter>('Counter', 1);
      target.executor.child!.kill('SIGSTOP');
      const started = performance.now();
      await expect(counter.increment()).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED', message: expect.stringContaining('(deadlineMs)') });
      expect(performance.now() - started).toBeLessThan(5000);
      target.executor.child!.kill('SIGCONT');
      // The call may have survived (state kept) or been cut by the executor's keepalive on wake-up (resumed in TTL).
      expect(await counter.increment()).toBeGreaterThanOrEqual(2);
      const fresh = await connect({ address: target.address });
      expect(await (await fresh.createProxy<Numbers>('Numbers')).sleep(1)).toBe('slept');
      await fresh.close();
    } finally {
      target.executor.child!.kill('SIGCONT');
      await client.close();
    }
    target.startProbing();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await target.assertHealthy({ rssBoundBytes: RSS_BOUND, probe: await target.stopProbing() });
  });

  it('executor killed and restarted on the same port: pending calls reject at once, old proxies name the lost session, a new connect works', async () => {
    const port = target.address.slice(target.address.lastIndexOf(':') + 1);
    const client = await connect({ address: target.address });
    try {
      const counter = await client.createProxy<Counter>('Counter', 1);
      const numbers = await client.createProxy<Numbers>('Numbers');
      const pending = numbers.sleep(60_000).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await target.close();
      expect(await pending).toMatchObject({ code: 'UNAVAILABLE' });
      target = await startAbuseTarget([...FLAGS, '--port', port]);
      // While the client's channel is still backing off from the dead executor, calls fail fast with UNAVAILABLE
      // (ECONNREFUSED); once it reconnects, the old proxy's session is named as lost. Never a hang.
      let error: unknown;
      for (const until = performance.now() + 15_000; performance.now() < until; ) {
        error = await counter.increment().catch((e: unknown) => e);
        if ((error as { code?: string }).code !== 'UNAVAILABLE') break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(error).toBeInstanceOf(SessionNotFoundError);
      expect((error as Error).message).toMatch(/Session not found: '[0-9a-f-]{36}' \(closed, expired after the 500 ms reconnect TTL, or the executor restarted\)/);
      // The same client starts a fresh session for new proxies; a new client works as well.
      expect(await (await client.createProxy<Counter>('Counter', 5)).increment()).toBe(6);
      const fresh = await connect({ address: target.address });
      expect(await (await fresh.createProxy<Counter>('Counter', 7)).increment()).toBe(8);
      await fresh.close();
    } finally {
      await client.close();
    }
    target.startProbing();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await target.assertHealthy({ rssBoundBytes: RSS_BOUND, probe: await target.stopProbing() });
  }, 45_000);
});
