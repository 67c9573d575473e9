/**
 * The WebRTC voice server attacked the way an outsider would (issue #11): raw `ws` clients, crafted and fuzzed
 * signaling frames and SDP offers, floods, and real werift peers, against a server in a child process. Each case
 * asserts that the server process stays alive, answers /health within PROBE_BOUND_MS (100 ms) while the attack runs,
 * keeps its RSS under a stated bound, and that every live counter returns to zero.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CLIENT_MESSAGE_CHARS, MAX_REMOTE_CANDIDATES, MAX_SDP_LENGTH, parseClientMessage } from '../../src/media/webrtc/signaling.js';
import { offerFailingDuringAnswer, rawSocket, weriftOffer, type RawSocket } from '../webrtc/helpers/rawSignaling.js';
import { WeriftClient } from '../webrtc/helpers/weriftClient.js';
import { startWebRtcTarget, type WebRtcTarget } from './helpers/webrtcTarget.js';

const MB = 2 ** 20;
/** RSS bound for the server process (tsx + werift + the server: 140–180 MB over this file); far below a leak's growth. */
const RSS_BOUND = 400 * MB;
const KNOWN_TYPES = new Set(['answer', 'ice-candidate', 'error', 'close']);

let target: WebRtcTarget;
beforeAll(async () => {
  target = await startWebRtcTarget();
});
afterAll(async () => {
  await target.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every server message is a known type; errors carry a code and a short message with no stack and no path. */
function expectWellFormed(messages: Array<Record<string, unknown>>): void {
  for (const m of messages) {
    expect(KNOWN_TYPES.has(String(m.type)), JSON.stringify(m).slice(0, 200)).toBe(true);
    if (m.type !== 'error') continue;
    expect(typeof m.code).toBe('string');
    const text = String(m.message);
    expect(text.length).toBeLessThanOrEqual(MAX_CLIENT_MESSAGE_CHARS + 60);
    expect(text).not.toMatch(/\n|\bat .+:\d+:\d+|\/(?:usr|work|home|tmp|node_modules)\//);
  }
}

/** Runs `attack` while probing /health, closes the sockets it opened, then checks the health contract. */
async function underAttack(attack: (open: (localAddress?: string) => Promise<RawSocket>) => Promise<void>): Promise<void> {
  const sockets: RawSocket[] = [];
  const open = async (localAddress?: string) => {
    const s = await rawSocket(target.url, localAddress);
    sockets.push(s);
    return s;
  };
  target.startProbing();
  try {
    await attack(open);
  } finally {
    for (const s of sockets) s.ws.terminate();
  }
  const probe = await target.stopProbing();
  expect(probe.count).toBeGreaterThan(0);
  for (const s of sockets) expectWellFormed(s.messages);
  await target.assertHealthy({ rssBoundBytes: RSS_BOUND, probe });
}

describe('WebRTC abuse: hostile signaling is ordinary input', () => {
  it('fuzz: parseClientMessage never throws and every refusal is a PROTOCOL error with a short message', () => {
    const frame = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.json({ maxDepth: 4 }),
      fc.record({ type: fc.constantFrom('offer', 'ice-candidate', 'close', '__proto__', 'constructor', ''), sdp: fc.anything(), candidate: fc.anything() }).map((v) => JSON.stringify(v) ?? 'null'),
    );
    fc.assert(
      fc.property(frame, (text) => {
        const r = parseClientMessage(text);
        if (r.ok) expect(['offer', 'ice-candidate', 'close']).toContain(r.message.type);
        else {
          expect(r.error.code).toBe('PROTOCOL');
          expect(r.error.message.length).toBeLessThan(200);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('fuzz: random text, JSON and binary frames on raw sockets', async () => {
    const frame = fc.oneof(
      fc.string({ maxLength: 200 }).map((s) => ({ text: s })),
      fc.json({ maxDepth: 3 }).map((s) => ({ text: s })),
      fc.uint8Array({ maxLength: 200 }).map((b) => ({ binary: b })),
      fc.record({ type: fc.constantFrom('offer', 'ice-candidate', 'close'), sdp: fc.string({ maxLength: 100 }), candidate: fc.option(fc.record({ candidate: fc.string({ maxLength: 100 }), sdpMid: fc.option(fc.string({ maxLength: 5 })) })) }).map((v) => ({ text: JSON.stringify(v) })),
    );
    await underAttack(async (open) => {
      await fc.assert(
        fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 20 }), async (frames) => {
          const s = await open();
          for (const f of frames) {
            if ('binary' in f) s.ws.send(f.binary, { binary: true });
            else s.send(f.text);
          }
          await sleep(20);
          s.ws.terminate();
        }),
        { numRuns: 30 },
      );
      await sleep(200);
    });
  });

  it('fuzz: crafted SDP offers (mutated real offers) are answered or refused, never crash or hang the server', async () => {
    const base = (await weriftOffer()).split('\r\n');
    const junk = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('-1', '4294967296', 'NaN', '', ' ', '0 0 0', 'a.local', '::1', '999.1.1.1', 'x'.repeat(500)),
    );
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('value' as const), at: fc.nat(), value: junk }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), line: fc.constantFrom('a=fmtp:', 'a=rtpmap:', 'a=ssrc:', 'a=candidate:', 'a=rtcp-fb:', 'a=sctp-port:', 'a=setup:', 'a=mid:', 'm=', 'a=group:BUNDLE ', 'c=IN IP4 ', 'a=extmap:', 'a=rid:', 'a=msid:'), value: junk }),
    );
    const mutate = (lines: string[], ms: Array<fc.Arbitrary<unknown> extends never ? never : { kind: string; at: number; value?: string; line?: string }>) => {
      const out = [...lines];
      for (const m of ms) {
        const i = m.at % out.length;
        if (m.kind === 'delete') out.splice(i, 1);
        else if (m.kind === 'duplicate') out.splice(i, 0, out[i]!);
        else if (m.kind === 'value') out[i] = out[i]!.replace(/[:= ].*$/, (head) => `${head[0]}${m.value}`);
        else out.splice(i, 0, `${m.line}${m.value}`);
      }
      return out.join('\r\n');
    };
    await underAttack(async (open) => {
      await fc.assert(
        fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 6 }), async (ms) => {
          const s = await open();
          s.send({ type: 'offer', sdp: mutate(base, ms).slice(0, MAX_SDP_LENGTH) });
          await s.waitFor((m) => m.some((x) => x.type === 'answer' || x.type === 'error' || x.type === 'close'), 3000, 'a reply to the offer');
          s.ws.terminate();
        }),
        { numRuns: 40 },
      );
      await sleep(200);
    });
  });

  it('huge and hostile SDP: maximum length, too many media sections, candidate floods, names to resolve', async () => {
    const offer = await weriftOffer();
    const [head, ...rest] = offer.split('\r\nm=');
    await underAttack(async (open) => {
      const s = await open();
      // the largest accepted SDP, all of it ssrc lines werift scans
      const ssrc = Array.from({ length: 2000 }, (_, i) => `a=ssrc:${i} cname:x`).join('\r\n');
      s.send({ type: 'offer', sdp: `${offer}\r\n${ssrc}`.slice(0, MAX_SDP_LENGTH) });
      await s.waitFor((m) => m.some((x) => x.type === 'answer' || x.type === 'error'), 5000, 'reply to the ssrc flood');
      s.send({ type: 'close' });
      // 5 media sections
      const many = await open();
      many.send({ type: 'offer', sdp: [head, ...Array<string>(5).fill(rest[0]!)].join('\r\nm=') });
      await many.waitFor((m) => m.some((x) => x.type === 'error'), 3000, 'refusal');
      expect(many.errors()[0]).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
      // 33 candidates in the offer
      const cands = Array.from({ length: MAX_REMOTE_CANDIDATES + 1 }, (_, i) => `a=candidate:${i} 1 udp 2130706431 127.0.0.1 ${4000 + i} typ host`).join('\r\n');
      const flood = await open();
      flood.send({ type: 'offer', sdp: offer.replace('a=end-of-candidates', `${cands}\r\na=end-of-candidates`) });
      await flood.waitFor((m) => m.some((x) => x.type === 'error'), 3000, 'refusal');
      expect(flood.errors()[0]!.message).toMatch(/ICE candidates \(max 32\)/);
      // mDNS / DNS names and unroutable addresses in the offer and trickled: dropped, never resolved
      const named = await open();
      named.send({ type: 'offer', sdp: offer.replace(/ 127\.0\.0\.1 /g, ' attacker-controlled.local ') });
      for (const host of ['a.local', 'example.com', '999.0.0.1', '0.0.0.0']) named.send({ type: 'ice-candidate', candidate: { candidate: `candidate:9 1 udp 1 ${host} 9 typ host`, sdpMid: '0' } });
      await named.waitFor((m) => m.some((x) => x.type === 'answer' || x.type === 'close'), 3000, 'answer');
      await sleep(200);
    });
  });

  it('floods: 1000 ICE candidates before and after the answer, 100 offers on one socket, offers after close', async () => {
    const offer = await weriftOffer();
    await underAttack(async (open) => {
      const s = await open();
      s.send({ type: 'offer', sdp: offer });
      for (let i = 0; i < 1000; i++) s.send({ type: 'ice-candidate', candidate: { candidate: `candidate:${i} 1 udp 1 127.0.0.1 ${2000 + (i % 60000)} typ host`, sdpMid: '0' } });
      await s.waitFor((m) => m.some((x) => x.type === 'answer' || x.type === 'close'), 5000, 'answer');
      for (let i = 0; i < 1000; i++) s.send({ type: 'ice-candidate', candidate: { candidate: `candidate:${i} 1 udp 1 127.0.0.${(i % 250) + 1} 9 typ host`, sdpMid: '0' } });
      await s.waitFor((m) => m.filter((x) => x.type === 'error').length >= 900, 5000, 'refusals');
      expect(s.errors().every((e) => e.code === 'RESOURCE_EXHAUSTED' || e.code === 'PROTOCOL')).toBe(true);
      const many = await open();
      for (let i = 0; i < 100; i++) many.send({ type: 'offer', sdp: offer });
      await many.waitFor((m) => m.filter((x) => x.type === 'error').length >= 99, 5000, '99 refusals');
      expect(many.errors().filter((e) => String(e.message).includes('already has a peer'))).toHaveLength(99);
      for (let i = 0; i < 20; i++) {
        many.send({ type: 'close' });
        many.send({ type: 'offer', sdp: offer });
      }
      await sleep(300);
      expect((await target.resources()).peerSlots).toBeLessThanOrEqual(2);
    });
  });
});

describe('WebRTC abuse: slots, sockets and timeouts', () => {
  it('issue #11: offers whose ICE fails during the answer, sockets dropped mid-answer, peers closed by the client — all slots come back', async () => {
    const failing = await offerFailingDuringAnswer();
    const offer = await weriftOffer();
    await underAttack(async (open) => {
      const all: Array<Promise<void>> = [];
      for (let i = 0; i < 16; i++) {
        all.push(
          (async () => {
            const s = await open(`127.0.0.${(i % 4) + 1}`);
            s.send({ type: 'offer', sdp: i % 2 === 0 ? failing : offer });
            if (i % 4 === 1) s.ws.terminate();
            if (i % 4 === 3) s.send({ type: 'close' });
          })(),
        );
      }
      await Promise.all(all);
      // a real werift peer that closes its own connection right after offering
      const c = await WeriftClient.open(target.url);
      await c.offer();
      await c.close();
      await sleep(300);
      const real = await WeriftClient.connect(target.url);
      expect(real.pc.connectionState).toBe('connected');
      await real.close();
    });
  });

  it('socket floods: one address gets maxWebSocketsPerAddress, idle ones time out, all are released', async () => {
    await underAttack(async (open) => {
      const sockets = await Promise.all(Array.from({ length: 40 }, () => open()));
      await sleep(100);
      const refused = sockets.filter((s) => s.errors().some((e) => String(e.message).includes('maxWebSocketsPerAddress')));
      expect(refused).toHaveLength(40 - 16);
      const other = await open('127.0.0.9');
      expect(other.ws.readyState).toBe(other.ws.OPEN);
      // the accepted ones never offer: the signaling timeout (1 s here) closes them all
      const codes = await Promise.all(sockets.filter((s) => !refused.includes(s)).map((s) => s.closed));
      expect(new Set(codes)).toEqual(new Set([1008]));
      await other.closed;
    });
  });
});
