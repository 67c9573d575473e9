/**
 * Executor limits, each at N (accepted) and N+1 (rejected with a clear status), plus the idle timeout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { status as Status } from '@grpc/grpc-js';
import { firstValueFrom, interval, lastValueFrom, map, Subject, take, toArray } from 'rxjs';
import { startExecutor } from '../../executor/index.js';
import { passThrough } from '../../src/operators/core/passThrough.js';
import { encodePayload } from '../../src/remote/codec.js';
import { StreamMessage } from '../../src/remote/gen/remotemedia.js';
import { remote } from '../../src/remote/index.js';
import { inProcessExecutor, type TestExecutor } from './helpers/executors.js';
import { data, open, rawStream } from './helpers/rawClient.js';

async function until(check: () => Promise<boolean>, withinMs = 2000): Promise<void> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > withinMs) throw new Error(`condition not met within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A data message whose protobuf encoding is exactly `bytes` long (what grpc-js compares with its limit). */
function dataMessageOfSize(bytes: number): StreamMessage {
  for (let k = bytes; k > 0; k--) {
    const message = data(0, encodePayload(new Uint8Array(k)));
    const size = StreamMessage.encode(message).finish().length;
    if (size === bytes) return message;
    if (size < bytes) break;
  }
  throw new Error(`no data message of exactly ${bytes} bytes`);
}

describe('executor limits', () => {
  let executor: TestExecutor | undefined;
  afterEach(async () => {
    await executor?.close();
    executor = undefined;
  });

  it('maxStreams: N concurrent streams run, stream N+1 gets RESOURCE_EXHAUSTED, a freed slot is reused', async () => {
    executor = await inProcessExecutor({ maxStreams: 2 });
    const address = executor.address;
    const inputs = [new Subject<number>(), new Subject<number>()];
    const outputs = inputs.map((input) => lastValueFrom(input.pipe(remote({ address }, passThrough()), toArray())));
    await until(async () => (await executor!.status()).activeStreams === 2);
    const third = await lastValueFrom(interval(1).pipe(take(1), remote({ address }, passThrough()))).catch((e: unknown) => e);
    expect(third).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    expect((third as Error).message).toContain('limit of 2 concurrent streams (maxStreams)');
    expect((await executor.status()).rejectedStreams).toBe(1);
    inputs[0]!.next(7);
    inputs[0]!.complete();
    expect(await outputs[0]).toEqual([7]);
    await until(async () => (await executor!.status()).activeStreams === 1);
    expect(await lastValueFrom(interval(1).pipe(take(2), remote({ address }, passThrough()), toArray()))).toEqual([0, 1]);
    inputs[1]!.complete();
    expect(await outputs[1]).toEqual([]);
  });

  it('maxMessageBytes: a message of N bytes passes, N+1 gets RESOURCE_EXHAUSTED', async () => {
    const limit = 32 * 1024;
    executor = await inProcessExecutor({ maxMessageBytes: limit });
    const ok = await rawStream(executor.address, [open([{ type: 'core.passThrough' }]), dataMessageOfSize(limit)]);
    expect(ok.status.code).toBe(Status.OK);
    expect(ok.messages.filter((m) => m.data !== undefined)).toHaveLength(1);
    const tooBig = await rawStream(executor.address, [open([{ type: 'core.passThrough' }]), dataMessageOfSize(limit + 1)]);
    expect(tooBig.status.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(tooBig.status.details).toBe(`Received message larger than max (${limit + 1} vs ${limit})`);
  });

  it('maxWindow: a window of N is granted in full, N+1 is granted N', async () => {
    executor = await inProcessExecutor({ maxWindow: 3 });
    const grant = async (window: number): Promise<number | undefined> =>
      (await rawStream(executor!.address, [open([{ type: 'core.passThrough' }], window)])).messages[0]?.credit?.n;
    expect(await grant(3)).toBe(3);
    expect(await grant(4)).toBe(3);
  });

  it('idleTimeoutMs: gaps shorter than the timeout keep a stream alive; silence longer closes it (DEADLINE_EXCEEDED)', async () => {
    executor = await inProcessExecutor({ idleTimeoutMs: 300 });
    const address = executor.address;
    // Six items 100 ms apart: 600 ms in all, never 300 ms idle.
    const alive = await lastValueFrom(interval(100).pipe(take(6), remote({ address }, passThrough()), toArray()));
    expect(alive).toEqual([0, 1, 2, 3, 4, 5]);
    const start = performance.now();
    const silent = new Subject<number>();
    const error = await firstValueFrom(silent.pipe(remote({ address }, passThrough()), map(() => 'item'))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect((error as Error).message).toContain('stream idle for 300 ms');
    expect(performance.now() - start).toBeGreaterThanOrEqual(290);
    expect((await executor.status()).activeStreams).toBe(0);
  });

  it('maxNodes: a chain of N nodes runs, N+1 gets INVALID_ARGUMENT naming maxNodes', async () => {
    executor = await inProcessExecutor({ maxNodes: 3 });
    const chain = (n: number): Parameters<typeof open>[0] => Array.from({ length: n }, () => ({ type: 'core.passThrough' }));
    const ok = await rawStream(executor.address, [open(chain(3)), data(0, encodePayload(5))]);
    expect(ok.status.code).toBe(Status.OK);
    expect(ok.messages.find((m) => m.data !== undefined)).toBeDefined();
    const tooLong = await rawStream(executor.address, [open(chain(4))]);
    expect(tooLong.status.code).toBe(Status.INVALID_ARGUMENT);
    expect(tooLong.status.details).toBe("chain of 4 nodes exceeds the executor's limit of 3 (maxNodes)");
  });

  it('maxNodeTypeLength: a type of N characters is looked up, N+1 is refused before lookup or echo', async () => {
    executor = await inProcessExecutor({ maxNodeTypeLength: 16 });
    // 'core.passThrough' is exactly 16 characters.
    expect((await rawStream(executor.address, [open([{ type: 'core.passThrough' }])])).status.code).toBe(Status.OK);
    const tooLong = await rawStream(executor.address, [open([{ type: 'core.passThrough1' }])]);
    expect(tooLong.status.code).toBe(Status.INVALID_ARGUMENT);
    expect(tooLong.status.details).toBe('nodes[0]: node type of 17 characters exceeds the limit of 16 (maxNodeTypeLength)');
  });

  it('maxParamsBytes: params_json of N UTF-16 units is parsed, N+1 is refused before parsing', async () => {
    executor = await inProcessExecutor({ maxParamsBytes: 64 });
    const paramsOfLength = (n: number): StreamMessage => ({ open: { nodes: [{ type: 'core.passThrough', paramsJson: `{}${' '.repeat(n - 2)}` }], window: 4 } });
    expect((await rawStream(executor.address, [paramsOfLength(64)])).status.code).toBe(Status.OK);
    const tooLong = await rawStream(executor.address, [paramsOfLength(65)]);
    expect(tooLong.status.code).toBe(Status.INVALID_ARGUMENT);
    expect(tooLong.status.details).toBe('nodes[0] (core.passThrough): params_json of 65 UTF-16 units exceeds the limit of 64 (maxParamsBytes)');
    // Not JSON at all, but over the limit: refused by length, so the parser never runs on it.
    const notJson: StreamMessage = { open: { nodes: [{ type: 'core.passThrough', paramsJson: '['.repeat(65) }], window: 4 } };
    expect((await rawStream(executor.address, [notJson])).status.details).toContain('(maxParamsBytes)');
  });

  it('maxStreamsPerClient: N streams from one client run, N+1 gets RESOURCE_EXHAUSTED, counted in rejectedCalls', async () => {
    executor = await inProcessExecutor({ maxStreamsPerClient: 2, maxStreams: 10 });
    const address = executor.address;
    const inputs = [new Subject<number>(), new Subject<number>()];
    const outputs = inputs.map((input) => lastValueFrom(input.pipe(remote({ address }, passThrough()), toArray())));
    await until(async () => (await executor!.status()).activeStreams === 2);
    const third = await lastValueFrom(interval(1).pipe(take(1), remote({ address }, passThrough()))).catch((e: unknown) => e);
    expect(third).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    expect((third as Error).message).toContain('client is at its limit of 2 concurrent streams (maxStreamsPerClient)');
    const status = await executor.status();
    expect([status.rejectedCalls, status.rejectedStreams]).toEqual([1, 0]);
    inputs[0]!.complete();
    expect(await outputs[0]).toEqual([]);
    await until(async () => (await executor!.status()).activeStreams === 1);
    expect(await lastValueFrom(interval(1).pipe(take(1), remote({ address }, passThrough()), toArray()))).toEqual([0]);
    inputs[1]!.complete();
    await outputs[1];
  });

  it('openTimeoutMs: a call that opens in time runs; one that sends nothing is closed with DEADLINE_EXCEEDED and counted', async () => {
    executor = await inProcessExecutor({ openTimeoutMs: 300 });
    const opened = await rawStream(executor.address, [open([{ type: 'core.passThrough' }])]);
    expect(opened.status.code).toBe(Status.OK);
    const silent = await rawStream(executor.address, [], { keepOpen: true });
    expect(silent.status.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(silent.status.details).toBe('no open message within 300 ms (openTimeoutMs)');
    const status = await executor.status();
    expect([status.rejectedCalls, status.activeStreams]).toEqual([1, 0]);
  });

  it('errorStacks: without a token errors carry code and short message, no stack or path; with a token, the stack', async () => {
    const failing = [open([{ type: 'test.fail', params: { failOn: 1 } }]), data(0, encodePayload(1))];
    executor = await inProcessExecutor();
    const anonymous = await rawStream(executor.address, failing);
    expect(anonymous.status.code).toBe(Status.UNKNOWN);
    const wireError = anonymous.messages.find((m) => m.error !== undefined)!.error!;
    expect(wireError).toMatchObject({ code: 'NODE_FAILED', stack: '' });
    expect(wireError.message).toContain('boom at 1');
    expect(`${wireError.message} ${anonymous.status.details}`).not.toMatch(/\/[\w.-]+\/[\w.-]+/);
    await executor.close();

    const token = 'a-token-of-16-chars-or-more';
    executor = await inProcessExecutor({ token });
    const authenticated = await rawStream(executor.address, failing, { token });
    expect(authenticated.messages.find((m) => m.error !== undefined)!.error!.stack).toContain('testNodes.ts');
  });

  it('rejects bad limit values naming the field', async () => {
    await expect(startExecutor({ maxStreams: 0 })).rejects.toMatchObject({ code: 'INVALID_PARAMS', field: 'maxStreams' });
    await expect(startExecutor({ maxMessageBytes: 10 })).rejects.toMatchObject({ code: 'INVALID_PARAMS', field: 'maxMessageBytes' });
    await expect(startExecutor({ idleTimeoutMs: -1 })).rejects.toMatchObject({ code: 'INVALID_PARAMS', field: 'idleTimeoutMs' });
  });
});
