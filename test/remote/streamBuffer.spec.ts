/**
 * Output and input bytes per stream (issue 11 §4, review findings): an output item larger than `maxMessageBytes` or
 * outside the payload limits fails the stream with a fixed message; encoding failures never leak library text;
 * `maxStreamBufferBytes` bounds the encoded outputs a non-reading client leaves in the executor.
 */
import { describe, expect, it } from 'vitest';
import { status as Status } from '@grpc/grpc-js';
import { z } from 'zod';
import { coreOperator } from '../../src/internal/coreOperator.js';
import { defineNode, hasNode } from '../../src/node.js';
import { decodePayload, encodePayload, MAX_PAYLOAD_ENTRIES } from '../../src/remote/codec.js';
import type { StreamMessage } from '../../src/remote/gen/remotemedia.js';
import { untilStatus, useTestExecutor } from './helpers/executors.js';
import { nonReadingCall } from './helpers/nonReadingClient.js';
import { data, open, rawStream } from './helpers/rawClient.js';
import { EventEmitter } from 'node:events';
import pino from 'pino';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { ExecutorStats } from '../../executor/stats.js';
import { StreamSession } from '../../executor/streamSession.js';
import { DEFAULT_EXECUTOR_LIMITS } from '../../executor/options.js';
import './helpers/testNodes.js';

/** A call whose transport takes writes only when told (take), recording what the session wrote. */
class FakeCall extends EventEmitter {
  readonly written: StreamMessage[] = [];
  private readonly callbacks: Array<() => void> = [];
  paused = false;
  cancelled = false;
  destroyed = false;
  write(message: StreamMessage, cb?: () => void): boolean {
    this.written.push(message);
    if (message.data === undefined) cb?.();
    else if (cb !== undefined) this.callbacks.push(cb);
    return true;
  }
  take(n: number): void {
    for (const cb of this.callbacks.splice(0, n)) cb();
  }
  receive(message: StreamMessage): void {
    this.emit('data', message);
  }
  outputs(): number {
    return this.written.filter((m) => m.data !== undefined).length;
  }
  credits(): number {
    return this.written.reduce((n, m) => n + (m.credit?.n ?? 0), 0);
  }
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  end(): void {}
  getPeer(): string {
    return '127.0.0.1:1';
  }
  destroy(): void {
    this.destroyed = true;
  }
}

function fakeSession(maxStreamBufferBytes: number): { session: StreamSession; call: FakeCall; stats: ExecutorStats } {
  const call = new FakeCall();
  call.on('error', () => undefined);
  const stats = new ExecutorStats('test');
  const session = new StreamSession(call as unknown as ServerDuplexStream<StreamMessage, StreamMessage>, {
    ...DEFAULT_EXECUTOR_LIMITS,
    maxStreamBufferBytes,
    stats,
    stacks: false,
    log: pino({ level: 'silent' }),
    onClosed: () => undefined,
  });
  return { session, call, stats };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const item = (seq: number, value: unknown = seq): StreamMessage => data(seq, encodePayload(value));

if (!hasNode('test.emitBad')) {
  // Emits a value msgpack cannot carry: a function, or an object whose getter throws a RangeError holding a path.
  defineNode('test.emitBad', z.object({ kind: z.enum(['function', 'rangeError']) }), ({ kind }) =>
    coreOperator('test.emitBad', () => ({
      push: (_x: unknown, emit) =>
        emit(
          kind === 'function'
            ? () => 1
            : Object.defineProperty({}, 'x', {
                enumerable: true,
                get: () => {
                  throw new RangeError('Maximum call stack size exceeded at /secret/install/path.js');
                },
              }),
        ),
    })),
  );
  // Emits a map of `n` keys (n is the input item).
  defineNode('test.bigMap', z.object({}), () =>
    coreOperator('test.bigMap', () => ({ push: (n: number, emit) => emit(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))) })),
  );
}


describe('output items and stream byte budgets', () => {
  const executors = useTestExecutor();

  it('maxMessageBytes bounds output items too: an encoding of N bytes is sent, N+1 fails RESOURCE_EXHAUSTED naming it', async () => {
    const bytes = 100_000;
    const limit = encodePayload(new Uint8Array(bytes)).length;
    const executor = await executors.start({ maxMessageBytes: limit });
    const ok = await rawStream(executor.address, [open([{ type: 'test.inflate', params: { count: 1, bytes } }], 1), item(0)]);
    expect(ok.status.code).toBe(Status.OK);
    expect((decodePayload(ok.messages.find((m) => m.data)!.data!.payload) as Uint8Array).length).toBe(bytes);
    const over = await rawStream(executor.address, [open([{ type: 'test.inflate', params: { count: 1, bytes: bytes + 1 } }], 1), item(0)]);
    expect(over.status.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(over.status.details).toBe(`output item 0 of node test.inflate encodes to ${limit + 1} bytes, over the limit of ${limit} (maxMessageBytes)`);
    await untilStatus(executor, (s) => s.activeStreams === 0 && s.inFlight === 0);
  });

  it('an output that cannot be encoded fails INVALID_ARGUMENT with fixed text naming item and node, no library text or path', async () => {
    const executor = await executors.start();
    const fn = await rawStream(executor.address, [open([{ type: 'test.emitBad', params: { kind: 'function' } }], 1), item(0)]);
    expect(fn.status.code).toBe(Status.INVALID_ARGUMENT);
    expect(fn.status.details).toBe('output item 0 of node test.emitBad cannot be encoded: a function cannot be sent to an executor');
    const range = await rawStream(executor.address, [open([{ type: 'test.emitBad', params: { kind: 'rangeError' } }], 1), item(0)]);
    expect(range.status.code).toBe(Status.INVALID_ARGUMENT);
    expect(range.status.details).toBe('output item 0 of node test.emitBad cannot be encoded: value too large or too deeply nested for msgpack');
  });

  it(`maps of more than 65 535 keys encode (variableMapSize); outputs over MAX_PAYLOAD_ENTRIES (${MAX_PAYLOAD_ENTRIES}) fail naming it, N passes`, async () => {
    const executor = await executors.start();
    const ok = await rawStream(executor.address, [open([{ type: 'test.bigMap' }], 1), item(0, MAX_PAYLOAD_ENTRIES)]);
    expect(ok.status.code).toBe(Status.OK);
    expect(Object.keys(decodePayload(ok.messages.find((m) => m.data)!.data!.payload) as object)).toHaveLength(MAX_PAYLOAD_ENTRIES);
    for (const n of [MAX_PAYLOAD_ENTRIES + 1, 70_000]) {
      const over = await rawStream(executor.address, [open([{ type: 'test.bigMap' }], 1), item(0, n)]);
      expect(over.status.code).toBe(Status.INVALID_ARGUMENT);
      expect(over.status.details).toBe(
        `output item 0 of node test.bigMap exceeds the payload limits: payload has more than ${MAX_PAYLOAD_ENTRIES} array elements and map entries (MAX_PAYLOAD_ENTRIES)`,
      );
    }
  });

  it('maxStreamBufferBytes: a non-reading client stops the chain (no input pushed, no credit) near the budget; reading resumes, lossless', async () => {
    const OUT = 256 * 1024;
    const budget = 4 * OUT;
    const executor = await executors.start({ maxStreamBufferBytes: budget, idleTimeoutMs: 10_000 });
    const window = 64;
    const client = nonReadingCall(executor.address);
    try {
      client.write(open([{ type: 'test.inflate', params: { count: 1, bytes: OUT } }], window));
      for (let seq = 0; seq < window; seq++) client.write(item(seq));
      const stalled = await untilStatus(executor, (s) => s.writeStalls >= 1);
      await sleep(300);
      const held = await executor.status();
      const out = held.nodes.find((n) => n.type === 'test.inflate')!.itemsOut;
      // Without the budget all 64 items run (16 messages of gRPC buffer count messages, not bytes). With it: what the
      // transport took (HTTP/2 window and socket buffers, a few MB on loopback) plus the budget plus one item.
      expect(out).toBeLessThan(window);
      expect(held.inFlight).toBeGreaterThan(0);
      expect(stalled.activeStreams).toBe(1);
      client.read();
      await untilStatus(executor, () => client.received.filter((m) => m.data !== undefined).length === window, 10_000);
      client.end();
      expect(await client.status).toBe(0);
      await untilStatus(executor, (s) => s.activeStreams === 0 && s.inFlight === 0);
    } finally {
      client.close();
    }
  });

  // Deterministic boundary, on a StreamSession over a fake call whose transport takes nothing until told to.
  it('maxStreamBufferBytes at N: held outputs of exactly N bytes still push input; N+1 blocks pushing and credit', () => {
    const size = encodePayload(new Uint8Array(1000)).length;
    // Budget 3 outputs: at exactly 3 held (not over) the 4th item is pushed; one byte less and 3 is over, so it stops.
    for (const [budget, produced] of [
      [3 * size, 4],
      [3 * size - 1, 3],
    ] as const) {
      const { session, call, stats } = fakeSession(budget);
      call.receive(open([{ type: 'test.inflate', params: { count: 1, bytes: 1000 } }], 8));
      for (let seq = 0; seq < 8; seq++) call.receive(item(seq));
      expect(call.outputs(), `budget ${budget}`).toBe(produced);
      expect(stats.writeStalls).toBe(1);
      const credits = call.credits();
      call.take(1); // the transport takes one output: back under the budget, one more item goes in
      expect(call.outputs()).toBe(produced + 1);
      expect(call.credits()).toBeGreaterThanOrEqual(credits);
      session.fail(new Error('done'));
    }
  });

  it('maxStreamBufferBytes bounds received payloads not consumed: over it the call is paused and no credit is granted', () => {
    const payload = encodePayload(new Uint8Array(1000));
    const budget = 2 * payload.length; // two queued items fit (not over), the third is over
    const { session, call } = fakeSession(budget);
    // test.slowEcho is an async boundary that never finishes here: the chain takes what it buffers, the rest queues.
    call.receive(open([{ type: 'test.slowEcho', params: { delayMs: 60_000 } }], 16));
    const before = call.credits();
    let seq = 0;
    while (!call.paused && seq < 16) call.receive(data(seq++, payload));
    expect(call.paused).toBe(true);
    expect(call.credits()).toBe(before);
    session.fail(new Error('done'));
  });
});
