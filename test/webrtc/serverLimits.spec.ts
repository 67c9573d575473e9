/**
 * The WebRTC server's slot accounting and its limits against idle or greedy clients (issue #11): every failure path
 * gives the peer slot back, signaling sockets without a peer time out, and sockets and peers are limited per remote
 * address. Each limit is tested at N (accepted) and N+1 (refused, the error names the option).
 */
import { describe, expect, it } from 'vitest';
import type { WebRtcServer } from '../../src/media/webrtc/server.js';
import { offerFailingDuringAnswer, weriftOffer } from './helpers/rawSignaling.js';
import { until, useWebRtcFixture } from './helpers/serverFixture.js';

const { server, client, socket } = useWebRtcFixture();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const released = (s: WebRtcServer) => s.resources().peerSlots === 0 && s.resources().answering === 0 && s.resources().peers === 0;

describe('WebRTC server: peer slots come back on every failure path', () => {
  it('issue #11: 8 peers whose connection fails while their answer is made leave no slot behind; a real peer still connects', async () => {
    const s = await server({ maxPeers: 2 });
    const sdp = await offerFailingDuringAnswer();
    for (let i = 0; i < 8; i++) {
      const r = await socket(s);
      r.send({ type: 'offer', sdp });
      await r.waitFor((m) => m.some((x) => x.type === 'close'), 5000, `failed peer ${i} closed`);
      expect(r.messages.some((m) => m.type === 'answer')).toBe(false); // no answer for a peer that is already gone
      expect(r.errors().filter((m) => m.code === 'RESOURCE_EXHAUSTED')).toEqual([]);
    }
    expect(s.health().activeConnections).toBe(0);
    expect(released(s)).toBe(true);
    const c = await client(s.url);
    expect(c.pc.connectionState).toBe('connected');
  });

  it('socket closed, "close" sent, or server closed while the answer is being made: slots and timers return to zero', async () => {
    const s = await server();
    const sdp = await weriftOffer();
    const dropped = await socket(s);
    dropped.send({ type: 'offer', sdp });
    dropped.ws.terminate();
    const closer = await socket(s);
    closer.send({ type: 'offer', sdp });
    closer.send({ type: 'close' });
    await closer.waitFor((m) => m.some((x) => x.type === 'close'), 5000, 'closed by client');
    expect(closer.messages.find((m) => m.type === 'close')).toMatchObject({ reason: 'closed by client' });
    await until(() => released(s) && s.resources().websockets === 1, 5000, 'released');
    // the closer's socket is still open and idle again: its signaling timeout is the only timer
    expect(s.resources()).toMatchObject({ peerSlots: 0, answering: 0, peers: 0, sessions: 0, timers: 0, socketTimers: 1 });
    const late = await socket(s);
    late.send({ type: 'offer', sdp });
    await s.close();
    expect(s.resources()).toMatchObject({ peerSlots: 0, answering: 0, peers: 0, sessions: 0, websockets: 0, addresses: 0, timers: 0, socketTimers: 0 });
  });

  it('an offer werift cannot parse: INVALID_INPUT with a short message (no stack, no path), slot released', async () => {
    const s = await server();
    const r = await socket(s);
    r.send({ type: 'offer', sdp: 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fmtp:112 x' });
    await r.waitFor((m) => m.some((x) => x.type === 'error'), 5000, 'error');
    const error = r.errors()[0]!;
    expect(error.code).toBe('INVALID_INPUT');
    expect(String(error.message)).toMatch(/^could not answer the offer: /);
    expect(String(error.message)).not.toMatch(/\/|\n| at /);
    expect(String(error.message).length).toBeLessThan(250);
    await until(() => released(s), 3000, 'released');
  });

  it('connect timeout counts from the offer and gives the slot back', async () => {
    const s = await server({ connectTimeoutMs: 300 });
    const r = await socket(s);
    r.send({ type: 'offer', sdp: await weriftOffer() }); // its peer was closed: ICE never completes
    await r.waitFor((m) => m.some((x) => x.type === 'close'), 3000, 'timeout close');
    expect(r.errors()[0]).toMatchObject({ code: 'DEADLINE_EXCEEDED', message: expect.stringMatching(/300 ms \(connectTimeoutMs\)/) as unknown });
    await until(() => released(s), 3000, 'released');
  });
});

describe('WebRTC server: signalingTimeoutMs', () => {
  it('a socket that never offers is closed after signalingTimeoutMs (DEADLINE_EXCEEDED, 1008), not before', async () => {
    const s = await server({ signalingTimeoutMs: 400 });
    const r = await socket(s);
    expect(s.resources().socketTimers).toBe(1);
    await sleep(200);
    expect(r.ws.readyState).toBe(r.ws.OPEN); // at half the timeout: still open
    expect(await r.closed).toBe(1008);
    expect(r.errors()).toEqual([{ type: 'error', code: 'DEADLINE_EXCEEDED', message: 'no peer connection on this socket for 400 ms (signalingTimeoutMs)' }]);
    await until(() => s.resources().websockets === 0 && s.resources().socketTimers === 0, 3000, 'socket and timer released');
  });

  it('does not close a socket while it holds a peer; restarts when that peer closes', async () => {
    const s = await server({ signalingTimeoutMs: 300 });
    const c = await client(s.url);
    await sleep(600);
    expect(c.ws.readyState).toBe(c.ws.OPEN);
    expect(c.pc.connectionState).toBe('connected');
    c.send({ type: 'close' });
    const code = await new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    expect(code).toBe(1008);
    expect(c.signals.map((m) => m.type).slice(-2)).toEqual(['close', 'error']);
    await until(() => released(s) && s.resources().websockets === 0 && s.resources().timers === 0 && s.resources().socketTimers === 0, 3000, 'released');
  });
});

describe('WebRTC server: limits per remote address', () => {
  it('maxWebSocketsPerAddress: N sockets from one address are accepted, N+1 is refused naming the option; other addresses are not affected', async () => {
    const s = await server({ maxWebSocketsPerAddress: 2 });
    const a = await socket(s);
    await socket(s);
    const extra = await socket(s);
    expect(await extra.closed).toBe(1013);
    expect(extra.errors()).toEqual([{ type: 'error', code: 'RESOURCE_EXHAUSTED', message: 'too many signaling connections from this address: 2 at most (maxWebSocketsPerAddress)' }]);
    const other = await socket(s, '127.0.0.2');
    expect(other.ws.readyState).toBe(other.ws.OPEN);
    expect(s.resources()).toMatchObject({ websockets: 3, addresses: 2 });
    a.ws.close();
    await until(() => s.resources().websockets === 2, 3000, 'a gone');
    const again = await socket(s);
    await sleep(50);
    expect(again.ws.readyState).toBe(again.ws.OPEN);
    expect(again.errors()).toEqual([]);
  });

  it('maxPeersPerAddress: N peers from one address connect, the N+1st offer is refused naming the option; another address is answered', async () => {
    const s = await server({ maxPeersPerAddress: 1 });
    const first = await client(s.url);
    const second = await socket(s);
    second.send({ type: 'offer', sdp: await weriftOffer() });
    await second.waitFor((m) => m.some((x) => x.type === 'error'), 3000, 'refusal');
    expect(second.errors()[0]).toEqual({ type: 'error', code: 'RESOURCE_EXHAUSTED', message: 'too many peer connections from this address: 1 at most (maxPeersPerAddress)' });
    expect(s.health().activeConnections).toBe(1);
    const other = await socket(s, '127.0.0.2');
    other.send({ type: 'offer', sdp: await weriftOffer() });
    await other.waitFor((m) => m.some((x) => x.type === 'answer'), 5000, 'answer for another address');
    expect(s.health().activeConnections).toBe(2);
    // once the first leaves, the refused socket may offer again
    first.send({ type: 'close' });
    await until(() => s.health().activeConnections === 1, 3000, 'first released');
    second.send({ type: 'offer', sdp: await weriftOffer() });
    await second.waitFor((m) => m.some((x) => x.type === 'answer'), 5000, 'answer after release');
  });

  it('maxWebSockets and maxPeers name their option too', async () => {
    const s = await server({ maxWebSockets: 1, maxPeers: 1 });
    const one = await socket(s);
    const two = await socket(s, '127.0.0.2');
    expect(await two.closed).toBe(1013);
    expect(two.errors()[0]!.message).toBe('too many signaling connections: 1 at most (maxWebSockets)');
    one.send({ type: 'offer', sdp: await weriftOffer() });
    await one.waitFor((m) => m.some((x) => x.type === 'answer'), 5000, 'answer');
    one.ws.close();
    await until(() => s.resources().websockets === 0, 3000, 'one gone');
  });
});
