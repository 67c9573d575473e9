/**
 * Executor surface: security defaults (loopback, token, TLS), health, reflection, ListNodes, GetStatus, draining
 * shutdown, the channel pool and the CLI.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { credentials, loadPackageDefinition, makeGenericClientConstructor, type Client, type ClientDuplexStream, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { interval, lastValueFrom, of, Subject, toArray } from 'rxjs';
import { startExecutor } from '../../executor/index.js';
import { listNodes } from '../../src/node.js';
import { passThrough } from '../../src/operators/core/passThrough.js';
import { openChannelCount } from '../../src/remote/channelPool.js';
import { executorNodes, executorStatus, remote } from '../../src/remote/index.js';
import { ROOT, inProcessExecutor, TEST_NODES } from './helpers/executors.js';
import { runningSum } from './helpers/testNodes.js';

const TOKEN = 'correct-horse-battery-staple';
const require = createRequire(import.meta.url);

function healthCheck(address: string, service: string): Promise<string> {
  const Health = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health');
  const client = new Health(address, credentials.createInsecure());
  return new Promise<string>((resolve, reject) =>
    client.makeUnaryRequest('/grpc.health.v1.Health/Check', healthService.Check!.requestSerialize, healthService.Check!.responseDeserialize, { service }, (err, value) => {
      client.close();
      if (err) reject(err);
      else resolve((value as { status: string }).status);
    }),
  );
}

describe('executor', () => {
  const closers: Array<() => Promise<void>> = [];
  const track = <T extends { close(): Promise<void> }>(e: T): T => (closers.push(() => e.close()), e);
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  it('binds 127.0.0.1 by default and picks a free port with port 0', async () => {
    const executor = track(await startExecutor({ port: 0, logLevel: 'silent' }));
    expect(executor.address).toBe(`127.0.0.1:${executor.port}`);
    expect(executor.port).toBeGreaterThan(0);
  });

  it('refuses a non-loopback host without a token, unless insecure is explicit', async () => {
    await expect(startExecutor({ host: '0.0.0.0', port: 0, logLevel: 'silent' })).rejects.toMatchObject({ code: 'INVALID_PARAMS', field: 'token' });
    track(await startExecutor({ host: '0.0.0.0', port: 0, insecure: true, logLevel: 'silent' }));
    track(await startExecutor({ host: '0.0.0.0', port: 0, token: TOKEN, logLevel: 'silent' }));
  });

  it('with a token: missing or wrong tokens get UNAUTHENTICATED, the right one works', async () => {
    const executor = track(await inProcessExecutor({ token: TOKEN }));
    const address = executor.address;
    const run = (token?: string): Promise<unknown> => lastValueFrom(of(1).pipe(remote({ address, token }, passThrough()), toArray())).catch((e: unknown) => e);
    expect(await run()).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await run('wrong-token-of-some-length')).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await run(TOKEN)).toEqual([1]);
    await expect(executorStatus({ address })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(executorNodes({ address, token: 'nope' })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await executorStatus({ address, token: TOKEN })).totalStreams).toBe(1);
  });

  it('serves TLS; a client with the CA connects, a plaintext client does not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rm-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      const cert = readFileSync(join(dir, 'cert.pem'));
      const executor = track(await startExecutor({ port: 0, logLevel: 'silent', tls: { cert, key: readFileSync(join(dir, 'key.pem')) } }));
      const out = await lastValueFrom(of(1, 2).pipe(remote({ address: executor.address, tls: { ca: cert } }, passThrough()), toArray()));
      expect(out).toEqual([1, 2]);
      const plain = await lastValueFrom(of(1).pipe(remote({ address: executor.address, deadlineMs: 2000 }, passThrough()))).catch((e: unknown) => e);
      expect(plain).toMatchObject({ code: expect.stringMatching(/UNAVAILABLE|DEADLINE_EXCEEDED|INTERNAL/) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers health checks (SERVING, NOT_SERVING while draining) and server reflection', async () => {
    const executor = track(await inProcessExecutor());
    expect(await healthCheck(executor.address, '')).toBe('SERVING');
    expect(await healthCheck(executor.address, 'remotemedia.v1.RemoteMedia')).toBe('SERVING');
    const reflectionProto = join(require.resolve('@grpc/reflection/package.json'), '..', 'build/proto/grpc/reflection/v1/reflection.proto');
    const pkg = loadPackageDefinition(loadSync(reflectionProto, { keepCase: true })) as GrpcObject;
    const Ctor = (((pkg.grpc as GrpcObject).reflection as GrpcObject).v1 as GrpcObject).ServerReflection as ServiceClientConstructor;
    type Reply = { list_services_response?: { service: { name: string }[] } };
    const client = new Ctor(executor.address, credentials.createInsecure()) as unknown as Client & { ServerReflectionInfo(): ClientDuplexStream<object, Reply> };
    const stream = client.ServerReflectionInfo();
    const reply = await new Promise<Reply>((resolve, reject) => {
      stream.on('data', resolve);
      stream.on('error', reject);
      stream.write({ list_services: '*' });
    });
    stream.end();
    client.close();
    expect(reply.list_services_response?.service.map((s) => s.name)).toContain('remotemedia.v1.RemoteMedia');
  });

  it('lists its nodes (same as the local registry) and reports status', async () => {
    const executor = track(await inProcessExecutor());
    const nodes = await executorNodes({ address: executor.address });
    expect(nodes).toEqual(JSON.parse(JSON.stringify(listNodes())));
    expect(nodes.map((n) => n.type)).toEqual(expect.arrayContaining(['core.passThrough', 'audio.audioBuffer', 'test.runningSum']));
    await lastValueFrom(of(1, 2, 3).pipe(remote({ address: executor.address }, runningSum({}), passThrough())));
    const status = await executorStatus({ address: executor.address });
    expect(status).toMatchObject({ activeStreams: 0, totalStreams: 1, rejectedStreams: 0, inFlight: 0, activeSessions: 0, draining: false, version: '0.1.0' });
    expect(status.uptimeMs).toBeGreaterThanOrEqual(0);
    expect(status.nodes).toEqual([
      { type: 'core.passThrough', streams: 1, active: 0, itemsOut: 3, errors: 0 },
      { type: 'test.runningSum', streams: 1, active: 0, itemsOut: 3, errors: 0 },
    ]);
  });

  it('close() drains: open streams finish within the grace period, new streams are refused', async () => {
    const executor = await startExecutor({ port: 0, logLevel: 'silent', modules: [TEST_NODES], shutdownGraceMs: 2000 });
    const input = new Subject<number>();
    const output = lastValueFrom(input.pipe(remote<number, number>({ address: executor.address }, runningSum({})), toArray()));
    await until(() => executor.status().activeStreams === 1);
    const closed = executor.close();
    expect(executor.status().draining).toBe(true);
    const refused = await lastValueFrom(of(1).pipe(remote({ address: executor.address, deadlineMs: 1000 }, passThrough()))).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'UNAVAILABLE' });
    input.next(1);
    input.next(2);
    input.complete();
    expect(await output).toEqual([1, 3]);
    await closed;
  });

  it('close() cancels streams still open after the grace period with UNAVAILABLE', async () => {
    const executor = await startExecutor({ port: 0, logLevel: 'silent', shutdownGraceMs: 100 });
    const output = lastValueFrom(interval(10).pipe(remote({ address: executor.address, overflow: 'drop-oldest' }, passThrough()))).catch((e: unknown) => e);
    await until(() => executor.status().activeStreams === 1);
    const start = performance.now();
    await executor.close();
    expect(performance.now() - start).toBeLessThan(1000);
    expect(await output).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('executor shut down') });
  });

  it('pools one channel per address, spreads streams over several addresses, closes channels with their last user', async () => {
    const a = track(await inProcessExecutor());
    const b = track(await inProcessExecutor());
    const inputs = [0, 1, 2, 3].map(() => new Subject<number>());
    const outputs = inputs.map((input) => lastValueFrom(input.pipe(remote({ addresses: [a.address, b.address] }, passThrough()), toArray())));
    expect(openChannelCount()).toBe(2);
    await until(async () => (await a.status()).activeStreams === 2 && (await b.status()).activeStreams === 2);
    inputs.forEach((input, i) => (input.next(i), input.complete()));
    expect(await Promise.all(outputs)).toEqual([[0], [1], [2], [3]]);
    expect(openChannelCount()).toBe(0);
  });

  it('CLI: `remotemedia nodes` prints the registry as JSON; `executor` refuses an open bind without a token', async () => {
    const tsx = ['--import', 'tsx', 'bin/remotemedia.ts'];
    const nodes = JSON.parse(execFileSync(process.execPath, [...tsx, 'nodes', '--module', TEST_NODES], { cwd: ROOT, encoding: 'utf8' })) as Array<{ type: string }>;
    expect(nodes.map((n) => n.type)).toEqual(expect.arrayContaining(['core.passThrough', 'test.runningSum']));
    const bad = (() => {
      try {
        execFileSync(process.execPath, [...tsx, 'executor', '--host', '0.0.0.0', '--port', '0'], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
        return '';
      } catch (e) {
        return String((e as { stderr: string }).stderr);
      }
    })();
    expect(bad).toContain("invalid params field 'token'");
  });
});

async function until(check: () => boolean | Promise<boolean>, withinMs = 2000): Promise<void> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > withinMs) throw new Error(`condition not met within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('executor engine preloading', () => {
  it('loads the configured engines before serving and refuses a malformed entry', async () => {
    const { engineCacheStats } = await import('../../src/engines/index.js');
    const { startExecutor: start } = await import('../../executor/index.js');
    const executor = await start({ port: 0, logLevel: 'silent', preload: ['vad:silero'] });
    try {
      expect(engineCacheStats()).toContainEqual(expect.objectContaining({ kind: 'vad', name: 'silero', pinned: true, loaded: true }));
    } finally {
      await executor.close();
    }
    await expect(start({ port: 0, logLevel: 'silent', preload: ['silero'] })).rejects.toMatchObject({ code: 'INVALID_PARAMS', field: 'preload.0' });
  });
});
