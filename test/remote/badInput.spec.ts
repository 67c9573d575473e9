/**
 * Hostile or wrong input to the executor: each case gets a clear gRPC status and message, and the executor keeps
 * serving (a normal stream works afterwards and no stream is left open).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client, credentials, Metadata, status as Status, type StatusObject } from '@grpc/grpc-js';
import { lastValueFrom, of, toArray } from 'rxjs';
import { RemoteMediaError } from '../../src/errors.js';
import { passThrough } from '../../src/operators/core/passThrough.js';
import { encodePayload } from '../../src/remote/codec.js';
import { remote, type RemoteNode } from '../../src/remote/index.js';
import { inProcessExecutor, type TestExecutor } from './helpers/executors.js';
import { StreamMessage } from '../../src/remote/gen/remotemedia.js';
import { rawBytesStream } from '../abuse/helpers/wireFuzz.js';
import { data, open, rawStream } from './helpers/rawClient.js';

describe('executor bad input', () => {
  let executor: TestExecutor;
  beforeAll(async () => {
    executor = await inProcessExecutor({ maxMessageBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await executor?.close();
  });
  afterEach(async () => {
    // The executor survived and still serves.
    expect(await lastValueFrom(of(1, 2).pipe(remote({ address: executor.address }, passThrough()), toArray()))).toEqual([1, 2]);
    expect((await executor.status()).activeStreams).toBe(0);
  });

  it('bytes that are not a StreamMessage → INVALID_ARGUMENT from the executor (not grpc-js), with the error message first', async () => {
    const garbage = Buffer.from('0a1aeb2b53bf78bc2eac106faf0a2b', 'hex');
    const { status, replies } = await rawBytesStream(executor.address, [garbage], 5000);
    expect(status.code).toBe(Status.INVALID_ARGUMENT);
    expect(status.details).toMatch(/^protocol: a message is not a valid StreamMessage \(/);
    expect(StreamMessage.decode(replies[0]!).error).toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('bytes that are not a SessionRequest → INVALID_ARGUMENT from the executor, the call counted and released', async () => {
    const client = new Client(executor.address, credentials.createInsecure());
    const call = client.makeBidiStreamRequest<Buffer, Buffer>('/remotemedia.v1.RemoteMedia/Session', (b: Buffer) => b, (b: Buffer) => b, new Metadata());
    const status = await new Promise<StatusObject>((resolve) => {
      call.on('data', () => undefined);
      call.on('error', () => undefined);
      call.on('status', resolve);
      call.write(Buffer.from('0a1aeb2b53bf78bc2eac106faf0a2b', 'hex'));
    });
    client.close();
    expect(status.code).toBe(Status.INVALID_ARGUMENT);
    expect(status.details).toMatch(/^protocol: a message is not a valid SessionRequest \(/);
    expect((await executor.status()).sessionCalls).toBe(0);
  });

  it('unknown node type → NOT_FOUND naming the type', async () => {
    const { status, messages } = await rawStream(executor.address, [open([{ type: 'x.nope' }])]);
    expect(status.code).toBe(Status.NOT_FOUND);
    expect(status.details).toContain("unknown node type 'x.nope'");
    expect(messages[0]?.error).toMatchObject({ code: 'UNKNOWN_NODE', node: 'x.nope' });
  });

  it('unknown node type through remote() → UNKNOWN_NODE error before any data flows', async () => {
    const fake = Object.assign((s: unknown) => s, { spec: { type: 'x.nope', params: {} } }) as unknown as RemoteNode;
    const error = await lastValueFrom(of(1).pipe(remote({ address: executor.address }, fake))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteMediaError);
    expect(error).toMatchObject({ code: 'UNKNOWN_NODE', node: 'x.nope' });
  });

  it('invalid params → INVALID_ARGUMENT naming node and field', async () => {
    const { status, messages } = await rawStream(executor.address, [open([{ type: 'core.calculator', params: { operation: 'divide' } }])]);
    expect(status.code).toBe(Status.INVALID_ARGUMENT);
    expect(status.details).toContain("core.calculator: invalid params field 'operand'");
    expect(messages[0]?.error?.code).toBe('INVALID_PARAMS');
  });

  it('params that are not JSON → INVALID_ARGUMENT', async () => {
    const { status } = await rawStream(executor.address, [{ open: { nodes: [{ type: 'core.passThrough', paramsJson: '{nope' }], window: 1 } }]);
    expect(status.code).toBe(Status.INVALID_ARGUMENT);
    expect(status.details).toContain('params_json is not JSON');
  });

  it('malformed msgpack → INVALID_ARGUMENT naming the item', async () => {
    const { status, messages } = await rawStream(executor.address, [open([{ type: 'core.passThrough' }]), data(0, new Uint8Array([0x92, 0x01]))]);
    expect(status.code).toBe(Status.INVALID_ARGUMENT);
    expect(status.details).toContain('data seq 0: payload is not valid msgpack');
    expect(messages.map((m) => Object.keys(m).find((k) => m[k as keyof typeof m] !== undefined))).toEqual(['credit', 'error']);
  });

  it('a payload over the size limit → RESOURCE_EXHAUSTED', async () => {
    const { status } = await rawStream(executor.address, [open([{ type: 'core.passThrough' }]), data(0, encodePayload(new Uint8Array(64 * 1024)))]);
    expect(status.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(status.details).toMatch(/larger than max/);
  });

  it('a data message before open → FAILED_PRECONDITION', async () => {
    const { status } = await rawStream(executor.address, [data(0, encodePayload(1))]);
    expect(status.code).toBe(Status.FAILED_PRECONDITION);
    expect(status.details).toContain('data message before open');
  });

  it('a second open, an out-of-order seq, items beyond the credits → clear protocol statuses', async () => {
    const twice = await rawStream(executor.address, [open([]), open([])]);
    expect([twice.status.code, twice.status.details]).toEqual([Status.FAILED_PRECONDITION, 'protocol: a stream may be opened only once']);
    const gap = await rawStream(executor.address, [open([]), data(1, encodePayload(1))]);
    expect([gap.status.code, gap.status.details]).toEqual([Status.FAILED_PRECONDITION, 'protocol: data seq 1 out of order, expected 0']);
    // slowEcho is busy with item 0 (credited back: 2 credits in all), item 1 waits uncredited, item 2 is one too many.
    const items = [0, 1, 2].map((i) => data(i, encodePayload(i)));
    const greedy = await rawStream(executor.address, [open([{ type: 'test.slowEcho', params: { delayMs: 200 } }], 1), ...items]);
    expect(greedy.status.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(greedy.status.details).toBe('client sent item 2 beyond its 2 credits');
  });

  it('a stream closed before open → FAILED_PRECONDITION', async () => {
    const { status } = await rawStream(executor.address, []);
    expect([status.code, status.details]).toEqual([Status.FAILED_PRECONDITION, 'protocol: stream ended before open']);
  });
});
