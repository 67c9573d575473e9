/**
 * Stream-call abuse against a real child-process executor: the cases of issue #11 that concern the `Stream` RPC's
 * input bounds. Every case ends with the health contract (alive, GetStatus answered within 100 ms throughout, RSS
 * bounded, live counters back to zero).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status as Status } from '@grpc/grpc-js';
import { decodePayload, encodePayload } from '../../src/remote/codec.js';
import { ROOT } from '../remote/helpers/executors.js';
import { data, open, rawStream } from '../remote/helpers/rawClient.js';
import { MB, startAbuseTarget, type AbuseTarget } from './helpers/target.js';

const RSS_BOUND = 400 * MB;
const passThroughs = (n: number): Parameters<typeof open>[0] => Array.from({ length: n }, () => ({ type: 'core.passThrough' }));

describe('Stream call abuse (issue #11)', () => {
  let target: AbuseTarget;
  beforeAll(async () => {
    target = await startAbuseTarget(['--open-timeout-ms', '400', '--max-streams-per-client', '8']);
    // Warm-up: the first stream compiles the executor's hot paths; that once-only cost is no attack.
    await rawStream(target.address, [open(passThroughs(3)), data(0, encodePayload(1))]);
  }, 30_000);
  afterAll(() => target.close());

  const attack = (run: () => Promise<void>, probed = true): Promise<void> => target.attack(run, { rssBoundBytes: RSS_BOUND, probed });

  it('a 35-byte AudioFrame item declaring 4 GiB of metadata: INVALID_ARGUMENT, no allocation', () =>
    attack(async () => {
      const item = new Uint8Array(35);
      item.set([0xc7, 32, 0x41]);
      const view = new DataView(item.buffer);
      view.setFloat64(3, 16000, true);
      view.setFloat64(11, 1, true);
      view.setUint32(27, 0xfffffffd, true);
      const before = (await target.status()).rssBytes;
      const result = await rawStream(target.address, [open(passThroughs(1)), data(0, item)]);
      expect(result.status.code).toBe(Status.INVALID_ARGUMENT);
      expect(result.status.details).toContain('metadata length 4294967293 exceeds');
      expect((await target.status()).rssBytes - before).toBeLessThan(64 * MB);
    }));

  it('the ~14 KB open of 700 nodes that once killed the process: refused by maxNodes before any node is built', () =>
    attack(async () => {
      const result = await rawStream(target.address, [open(passThroughs(700)), data(0, encodePayload(1))]);
      expect(result.status.code).toBe(Status.INVALID_ARGUMENT);
      expect(result.status.details).toBe("chain of 700 nodes exceeds the executor's limit of 64 (maxNodes)");
    }));

  // maxNodes raised by the operator to its schema maximum (256, executor/options.ts): measured cold, chains overflow
  // the stack on subscribe at ~400-448 core.bounded nodes (the heaviest built-in node per level) and ~700-800
  // passThrough nodes, so a chain at the maximum of either must run end to end; longer ones are refused up front.
  // Building 256 operators takes the event loop for a while, so no probe bound here.
  it('maxNodes at its schema maximum (256): 256 passThrough and 256 core.bounded nodes run end to end, 257 refused', async () => {
    const raised = await startAbuseTarget(['--max-nodes', '256']);
    try {
      const chains: Array<Parameters<typeof open>[0]> = [passThroughs(256), Array.from({ length: 256 }, () => ({ type: 'core.bounded', params: { size: 1 } }))];
      for (const chain of chains) {
        const result = await rawStream(raised.address, [open(chain), data(0, encodePayload(1)), data(1, encodePayload('two')), { end: {} }]);
        expect(result.status.code, result.status.details).toBe(Status.OK);
        expect(result.messages.filter((m) => m.data !== undefined).map((m) => decodePayload(m.data!.payload))).toEqual([1, 'two']);
      }
      const tooLong = await rawStream(raised.address, [open(passThroughs(257)), data(0, encodePayload(1))]);
      expect(tooLong.status.code).toBe(Status.INVALID_ARGUMENT);
      expect(tooLong.status.details).toBe("chain of 257 nodes exceeds the executor's limit of 256 (maxNodes)");
      await raised.assertHealthy({ rssBoundBytes: RSS_BOUND });
    } finally {
      await raised.close();
    }
  }, 60_000);

  it('idle calls that never send open: all closed after openTimeoutMs with DEADLINE_EXCEEDED, counted in rejectedCalls', async () => {
    const before = (await target.status()).rejectedCalls;
    // Eight per client is the per-client limit; the rest are refused at once (also counted). Calls are made before
    // probing starts: creating a dozen channels is the test process's work, not the executor's.
    const calls = Array.from({ length: 12 }, () => rawStream(target.address, [], { keepOpen: true }));
    await attack(async () => {
      const results = await Promise.all(calls);
      const codes = results.map((r) => r.status.code).sort();
      expect(codes.filter((c) => c === Status.DEADLINE_EXCEEDED)).toHaveLength(8);
      expect(codes.filter((c) => c === Status.RESOURCE_EXHAUSTED)).toHaveLength(4);
      expect(results.find((r) => r.status.code === Status.DEADLINE_EXCEEDED)!.status.details).toBe('no open message within 400 ms (openTimeoutMs)');
      expect((await target.status()).rejectedCalls - before).toBe(12);
    });
  });

  it('a 100 KB node type: refused by maxNodeTypeLength, the reply grpc-message stays short', () =>
    attack(async () => {
      const result = await rawStream(target.address, [open([{ type: 'x'.repeat(100_000) }])]);
      expect(result.status.code).toBe(Status.INVALID_ARGUMENT);
      expect(result.status.details.length).toBeLessThan(200);
      expect(result.status.details).toContain('(maxNodeTypeLength)');
    }));

  it('errors to an unauthenticated caller carry no stack and no path', () =>
    attack(async () => {
      const result = await rawStream(target.address, [open([{ type: 'test.fail', params: { failOn: 1 } }]), data(0, encodePayload(1))]);
      const error = result.messages.find((m) => m.error !== undefined)!.error!;
      expect(error.stack).toBe('');
      expect(`${error.message} ${result.status.details}`).not.toMatch(/\/[\w.-]+\/[\w.-]+/);
    }));

  it('a client killed mid-stream (SIGKILL): the executor frees its stream', async () => {
    const script = `import { rawStream, open } from ${JSON.stringify(`${ROOT}test/remote/helpers/rawClient.ts`)};
        void rawStream(${JSON.stringify(target.address)}, [open([{ type: 'core.passThrough' }])], { keepOpen: true });
        setTimeout(() => console.log('open'), 300);`;
    // Started before probing: a tsx child compiling on a 2-core machine slows everything, the executor included.
    const client = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => createInterface({ input: client.stdout! }).once('line', () => resolve()));
    await target.until((s) => s.activeStreams === 1, 5000, 'the client stream is open');
    await attack(async () => {
      client.kill('SIGKILL');
      await target.until((s) => s.activeStreams === 0, 10_000, 'the killed client stream is freed');
    });
  }, 30_000);
});
