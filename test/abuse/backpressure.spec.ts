/**
 * Abuse: flow control both ways against a real child-process executor (issue 11 §4). A client that sends and never
 * reads costs the executor at most window × output size × fan-out; remote() followed by a slow `mapAsync` with
 * `'block'` is lossless with bounded memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, map, toArray } from 'rxjs';
import { flowStats } from '../../src/flow/flowQueue.js';
import { mapAsync } from '../../src/flow/mapAsync.js';
import { fromAsyncIterable } from '../../src/flow/pullable.js';
import { passThrough } from '../../src/operators/core/passThrough.js';
import { encodePayload } from '../../src/remote/codec.js';
import { remote } from '../../src/remote/index.js';
import { nonReadingCall } from '../remote/helpers/nonReadingClient.js';
import { open } from '../remote/helpers/rawClient.js';
import { fanOut, inflate } from '../remote/helpers/testNodes.js';
import { MB, startAbuseTarget, type AbuseTarget } from './helpers/target.js';

const WINDOW = 4;
const FAN_OUT = 8;
// Small enough that producing a window's outputs stays far below the 100 ms probe bound on a loaded machine; the
// HTTP/2 stream window (64 KiB) is what a non-reading client takes, so the rest still waits in gRPC's buffer.
const OUTPUT_BYTES = 64 * 1024;
/** What a stalled stream may hold: its window's outputs plus gRPC's 16-message write buffer. */
const HELD_BYTES = (WINDOW * FAN_OUT + 16) * OUTPUT_BYTES;

const item = (seq: number) => ({ data: { seq, payload: Buffer.from(encodePayload(seq)) } });
const amplifier = { type: 'test.inflate', params: { count: FAN_OUT, bytes: OUTPUT_BYTES } };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('abuse: flow control both ways (child-process executor)', () => {
  let target: AbuseTarget;
  let baselineRss: number;
  beforeAll(async () => {
    // A short idle timeout, so that streams whose clients never read are reclaimed within a case.
    target = await startAbuseTarget(['--idle-timeout-ms', '1500']);
    // Warm-up, unprobed: a client that reads, and one non-reader that overruns its credits. The first time each path
    // runs it pays compilation and allocator growth (~100 ms on a loaded 2-core machine), which is not what we measure.
    const warm = await lastValueFrom(
      fromAsyncIterable([...Array(2 * WINDOW).keys()]).pipe(remote({ address: target.address, window: WINDOW }, inflate({ count: FAN_OUT, bytes: OUTPUT_BYTES })), toArray()),
    );
    expect(warm).toHaveLength(2 * WINDOW * FAN_OUT);
    const overrun = nonReadingCall(target.address);
    overrun.write(open([amplifier], WINDOW));
    for (let seq = 0; seq < 4 * WINDOW; seq++) overrun.write(item(seq));
    await target.until((s) => s.failedStreams === 1, 10_000, 'warm-up overrun failed');
    overrun.close();
    await target.until((s) => s.activeStreams === 0 && s.inFlight === 0, 10_000, 'warm-up released');
    baselineRss = (await target.status()).rssBytes;
  });
  afterAll(async () => {
    await target?.close();
  });

  it('clients that send and never read: RSS stays bounded while writeStalls > 0; counters return to zero when they are killed', async () => {
    // Three attackers (one respecting the window it asked for, two sending as if credit kept coming), each on its
    // own connection; every input turns into 8 × 64 KiB of output that nobody reads. Before the fix each greedy one
    // made the executor buffer 400 × 512 KiB.
    const clients = [0, 1, 2].map(() => nonReadingCall(target.address));
    await sleep(200); // connected before the probing starts: connection set-up is not the attack
    const before = await target.status();
    target.startProbing();
    let peakRss = 0;
    try {
      // Paced (8 items every 20 ms, as a live source would send): a burst of thousands of tiny messages is a
      // message-rate flood that grpc-js decodes before any limit of ours sees it, which is not what this case measures.
      const sending = clients.map(async (client, k) => {
        client.write(open([amplifier], WINDOW));
        const items = k === 0 ? WINDOW : 400;
        for (let seq = 0; seq < items; seq++) {
          client.write(item(seq));
          if (seq % 8 === 7) await sleep(20);
        }
      });
      const stalled = await target.until((s) => s.writeStalls >= before.writeStalls + clients.length, 10_000, 'every attacker stalled');
      await Promise.all(sending);
      for (let i = 0; i < 10; i++) {
        const s = await target.status();
        peakRss = Math.max(peakRss, s.rssBytes);
        await sleep(50);
      }
      // Held items are visible: inputs whose credit is withheld plus outputs waiting for the client.
      expect(stalled.inFlight).toBeGreaterThan(0);
      expect(stalled.inFlight).toBeLessThanOrEqual(clients.length * (WINDOW * (1 + FAN_OUT) + 16));
      const out = stalled.nodes.find((n) => n.type === 'test.inflate')!.itemsOut;
      expect(out, 'outputs produced for clients that read none').toBeLessThanOrEqual(clients.length * 2 * WINDOW * FAN_OUT + 16);
      // Twice the held bytes: each output exists as an item and as its encoded payload until the garbage is collected.
      expect(peakRss - baselineRss, `RSS growth ${((peakRss - baselineRss) / MB).toFixed(0)} MB`).toBeLessThan(2 * clients.length * HELD_BYTES + 128 * MB);
    } finally {
      for (const client of clients) client.close();
    }
    const probe = await target.stopProbing();
    const healthy = await target.assertHealthy({ rssBoundBytes: baselineRss + 2 * clients.length * HELD_BYTES + 256 * MB, probe });
    expect(healthy.writeStalls).toBeGreaterThanOrEqual(before.writeStalls + clients.length);
  });

  it('review t10: items returning 1 M-character strings to clients that never read stay within maxStreamBufferBytes; a 5 M-character output fails naming maxMessageBytes', async () => {
    const code = (chars: number): string => `var __rmModule = { process: function (x) { return String.fromCharCode(97 + (x % 26)).repeat(${chars}); } };`;
    const huge = nonReadingCall(target.address);
    // Warm-up, unprobed: the first codeNode isolate and the first 16 M-character result pay compilation and allocator
    // growth, which is not what this case measures.
    const warm = nonReadingCall(target.address);
    warm.read();
    warm.write(open([{ type: 'core.codeNode', params: { code: code(2 ** 20) } }], 1));
    warm.write(item(0));
    warm.end();
    expect(await warm.status).toBe(0);
    warm.close();
    // Unprobed: a 5 M-character output (within the sandbox's 16 MiB result bound) fails RESOURCE_EXHAUSTED naming
    // maxMessageBytes, before any encoding.
    huge.read();
    huge.write(open([{ type: 'core.codeNode', params: { code: code(5 * 2 ** 20) } }], 64));
    for (let seq = 0; seq < 64; seq++) huge.write(item(seq));
    expect(await huge.status).toBe(8); // RESOURCE_EXHAUSTED
    expect(huge.received.find((m) => m.error)?.error?.message).toMatch(/^output item 0 of node core\.codeNode encodes to (more than )?\d+ bytes, over the limit of 4194304 \(maxMessageBytes\)$/);
    await target.until((s) => s.activeStreams === 0 && s.inFlight === 0, 10_000, 'huge stream released');
    const clients = [0, 1].map(() => nonReadingCall(target.address));
    await sleep(200);
    const before = await target.status();
    target.startProbing();
    let peakRss = 0;
    try {
      // Before the fix: 64 items × 16 M characters → RSS 185 MB → 2.1 GB in 30 s, probes up to 1.3 s.
      for (const client of clients) {
        client.write(open([{ type: 'core.codeNode', params: { code: code(2 ** 20) } }], 64));
        for (let seq = 0; seq < 64; seq++) client.write(item(seq));
      }
      const stalled = await target.until((s) => s.writeStalls >= before.writeStalls + clients.length, 10_000, 'both attackers stalled');
      for (let i = 0; i < 10; i++) {
        peakRss = Math.max(peakRss, (await target.status()).rssBytes);
        await sleep(100);
      }
      const out = stalled.nodes.find((n) => n.type === 'core.codeNode')!.itemsOut;
      expect(out, 'outputs produced for clients that read none').toBeLessThan(2 * clients.length * 24 + 1);
      // Per stream: 16 MiB of held outputs (each alive as a string and its encoding) plus what the transport took.
      expect(peakRss - baselineRss, `RSS growth ${((peakRss - baselineRss) / MB).toFixed(0)} MB`).toBeLessThan(clients.length * 100 * MB + 128 * MB);
    } finally {
      for (const client of [...clients, huge]) client.close();
    }
    const probe = await target.stopProbing();
    // Before: the loop stalled 100-300 ms here, isolate completions chained call after call in one poll phase
    // (each result copied and encoded, ~5 ms); each sandbox call now yields one event-loop turn.
    await target.assertHealthy({ rssBoundBytes: baselineRss + clients.length * 100 * MB + 256 * MB, idleIsolates: 4, probe });
  });

  it('a client that never reads is closed by idleTimeoutMs although it stays connected; its slot and held outputs are freed', async () => {
    target.startProbing();
    const client = nonReadingCall(target.address);
    try {
      const before = await target.status();
      const start = performance.now();
      client.write(open([amplifier], WINDOW));
      for (let seq = 0; seq < WINDOW; seq++) client.write(item(seq));
      await target.until((s) => s.activeStreams === 1 && s.writeStalls > before.writeStalls && s.inFlight > 0, 5000, 'stalled');
      const closed = await target.until((s) => s.activeStreams === 0, 10_000, 'idle stream closed');
      expect(performance.now() - start).toBeGreaterThanOrEqual(1400);
      expect(closed.inFlight).toBe(0);
      expect(closed.failedStreams).toBe(before.failedStreams + 1);
    } finally {
      client.close();
    }
    const probe = await target.stopProbing();
    await target.assertHealthy({ rssBoundBytes: baselineRss + 2 * 4 * HELD_BYTES + 256 * MB, probe });
  });

  it("remote() → slow mapAsync('block'): lossless with 10× more items than the window, bounded overshoot", async () => {
    target.startProbing();
    const window = 4;
    const n = 10 * window * 3;
    const label = 'abuse:after-remote';
    let produced = 0;
    let consumed = 0;
    let peakGap = 0;
    async function* source(): AsyncGenerator<number> {
      for (let i = 0; i < n; i++) {
        produced++;
        peakGap = Math.max(peakGap, produced - Math.floor(consumed / 3));
        yield i;
      }
    }
    const out = await lastValueFrom(
      fromAsyncIterable(source()).pipe(
        remote<number, number>({ address: target.address, window }, passThrough(), fanOut({ count: 3 })),
        mapAsync(async (x: number) => (await sleep(1), x), { size: 2, overflow: 'block', label }),
        map((x) => (consumed++, x)),
        toArray(),
      ),
    );
    expect(out).toEqual([...Array(n).keys()].flatMap((x) => [x * 10, x * 10 + 1, x * 10 + 2]));
    const stats = flowStats(label);
    expect(stats).toMatchObject({ dropped: 0, queued: 0, active: 0 });
    expect(stats.peakQueued).toBeLessThanOrEqual(window * 3);
    // Source items not yet fully consumed downstream: the window, one in mapAsync, one being read.
    expect(peakGap).toBeLessThanOrEqual(window + 2);
    const probe = await target.stopProbing();
    await target.assertHealthy({ rssBoundBytes: baselineRss + 2 * 4 * HELD_BYTES + 256 * MB, probe });
  });
});
