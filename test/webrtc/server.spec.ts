import { finalize, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AudioFrame } from '../../src/media/audioFrame.js';
import { liveOpusCodecs } from '../../src/media/webrtc/opusCodec.js';
import { startWebRtcServer } from '../../src/media/webrtc/server.js';
import { echoUtterances, toneReply } from './helpers/echoPipeline.js';
import { until, useWebRtcFixture } from './helpers/serverFixture.js';
import { tone } from './helpers/weriftClient.js';

const { server, client } = useWebRtcFixture();
const silence = (seconds: number) => new Float32Array(Math.round(seconds * 48_000));
const concat = (...parts: Float32Array[]) => {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

describe('WebRTC server: HTTP', () => {
  it('serves the page, /client.js, /health and /connections; 404 and 405 otherwise', async () => {
    const s = await server();
    const page = await fetch(s.url);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('remotemedia voice');
    expect(await (await fetch(`${s.url}client.js`)).text()).toContain("createDataChannel('messages')");
    expect(await (await fetch(`${s.url}health`)).json()).toEqual({ status: 'ok', activeConnections: 0, websocketConnections: 0 });
    expect(await (await fetch(`${s.url}connections`)).json()).toEqual({ connections: [] });
    expect((await fetch(`${s.url}nope`)).status).toBe(404);
    expect((await fetch(`${s.url}health`, { method: 'POST' })).status).toBe(405);
  });

  it('rejects bad settings and a missing pipeline with typed errors naming the field', async () => {
    await expect(startWebRtcServer({ port: -1, pipeline: echoUtterances() })).rejects.toThrow(/field 'port'/);
    await expect(startWebRtcServer({ port: 0, maxPeers: 0, pipeline: echoUtterances() })).rejects.toThrow(/field 'maxPeers'/);
    await expect(startWebRtcServer({ port: 0, pipeline: 42 as never })).rejects.toThrow(/field 'pipeline'/);
  });
});

describe('WebRTC server: a werift peer end to end', () => {
  it('decodes the mic, runs the pipeline, plays the reply on a 20 ms track and sends events', async () => {
    const s = await server();
    const c = await client(s.url);
    expect(s.health()).toEqual({ status: 'ok', activeConnections: 1, websocketConnections: 1 });
    const answer = c.signals.find((m) => m.type === 'answer')!;
    expect(answer.peerId).toBe('peer-1');
    expect(String(answer.sdp)).not.toMatch(/a=candidate:\S+ \d \S+ \d+ (?!127\.)\d+\.\d+\.\d+\.\d+ /); // loopback only
    // one utterance: 0.6 s tone, then 0.5 s silence (ends it), sent in real time
    await c.sendAudio(concat(tone(0.6), silence(0.5)), 20);
    await until(() => c.events.some((e) => e.type === 'utterance'), 5000, 'utterance event');
    await until(() => c.received.filter((f) => f.rms > 0.1).length >= 25, 5000, 'echoed audio');
    const loud = c.received.filter((f) => f.rms > 0.1);
    expect(loud.length).toBeGreaterThanOrEqual(25); // ~0.6 s of tone came back
    expect(c.events.some((e) => e.type === 'playback' && e.state === 'started')).toBe(true);
    // cadence: 50 frames per second, RTP numbering +1 / +960 per frame, never reset
    const r = c.received;
    for (let i = 1; i < r.length; i++) {
      expect((r[i]!.sequenceNumber - r[i - 1]!.sequenceNumber + 65536) % 65536).toBe(1);
      expect((r[i]!.timestamp - r[i - 1]!.timestamp + 2 ** 32) % 2 ** 32).toBe(960);
    }
    const spanMs = r[r.length - 1]!.at - r[0]!.at;
    expect(r.length / (spanMs / 1000)).toBeGreaterThan(45);
    expect(r.length / (spanMs / 1000)).toBeLessThan(55);
    const info = (await (await fetch(`${s.url}connections`)).json()) as { connections: Array<Record<string, unknown>> };
    expect(info.connections[0]).toMatchObject({ id: 'peer-1', state: 'connected', dataChannelOpen: true, droppedFrames: 0 });
    expect(info.connections[0]!.inputFrames).toBeGreaterThanOrEqual(50);
  });

  it('numbering stays monotonic across two utterances and the data channel answers ping with pong', async () => {
    const s = await server();
    const c = await client(s.url);
    c.channel.send(JSON.stringify({ type: 'ping', t: 42 }));
    const finished = () => c.events.filter((e) => e.type === 'playback' && e.state === 'finished').length;
    await c.sendAudio(concat(tone(0.4), silence(0.5)));
    await until(() => finished() === 1, 5000, 'first reply played');
    await c.sendAudio(concat(tone(0.4), silence(0.5)));
    await until(() => finished() === 2, 5000, 'second reply played');
    expect(c.events.filter((e) => e.type === 'utterance')).toHaveLength(2);
    expect(c.events).toContainEqual({ type: 'pong', t: 42 });
    expect(c.received.filter((f) => f.marker)).toHaveLength(2); // one talkspurt per reply
    const r = c.received;
    for (let i = 1; i < r.length; i++) expect((r[i]!.timestamp - r[i - 1]!.timestamp + 2 ** 32) % 2 ** 32).toBe(960);
  });

  it('barge-in: speaking over a long reply silences it within 100 ms and cancels the pipeline subscription', async () => {
    let subscriptions = 0;
    let cancelled = 0;
    const pipeline = (input$: Observable<AudioFrame>) => {
      subscriptions++;
      return input$.pipe(toneReply(3), finalize(() => cancelled++));
    };
    const s = await server({ pipeline });
    const c = await client(s.url);
    await c.sendAudio(concat(tone(0.4), silence(0.4)));
    await until(() => c.received.filter((f) => f.rms > 0.1).length >= 10, 5000, 'reply playing');
    const speakAt = performance.now();
    void c.sendAudio(tone(0.3), 20);
    await until(() => c.events.some((e) => e.type === 'playback' && e.state === 'interrupted'), 3000, 'interrupted');
    await new Promise((r) => setTimeout(r, 200));
    const lastLoud = c.received.filter((f) => f.rms > 0.05).at(-1)!;
    const interruptedAt = c.eventTimes[c.events.findIndex((e) => e.state === 'interrupted')]!;
    // Detection needs 60 ms of speech; then no reply audio is sent any more: the last loud frame arrived before the
    // 'interrupted' event (give or take frames already in flight), and everything after it is silence.
    expect(lastLoud.at).toBeLessThan(interruptedAt + 40);
    expect(interruptedAt - speakAt).toBeLessThan(60 + 200); // detection + slack for a loaded machine
    expect(c.received.filter((f) => f.at > lastLoud.at + 1).every((f) => f.rms < 0.05)).toBe(true);
    expect(subscriptions).toBe(2);
    expect(cancelled).toBe(1);
    expect(s.connections()[0]).toMatchObject({ bargeIns: 1 });
  });
});

describe('WebRTC server: limits and bad input', () => {
  it('refuses peers beyond maxPeers with an error message, and accepts again once one leaves', async () => {
    const s = await server({ maxPeers: 1 });
    const first = await client(s.url);
    const second = await client(s.url, false);
    await second.offer();
    await until(() => second.signals.some((m) => m.type === 'error'), 3000, 'refusal');
    expect(second.signals.find((m) => m.type === 'error')).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    expect(s.health()).toMatchObject({ activeConnections: 1, websocketConnections: 2 });
    first.send({ type: 'close' });
    await until(() => s.health().activeConnections === 0, 3000, 'first peer closed');
    expect(first.signals.at(-1)).toMatchObject({ type: 'close', reason: 'closed by client' });
    const third = await client(s.url);
    expect(third.pc.connectionState).toBe('connected');
  });

  it('answers malformed messages with error messages; the socket stays usable and the server keeps running', async () => {
    const s = await server({ maxMessageBytes: 4096 });
    const c = await client(s.url, false);
    const errors = () => c.signals.filter((m) => m.type === 'error');
    c.send('{not json');
    c.send('[1,2]');
    c.send({ type: 'dance' });
    c.send({ type: 'offer' });
    c.send({ type: 'ice-candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host' } });
    c.send({ type: 'offer', sdp: 'v=0 this is not sdp' });
    c.ws.send(Buffer.from([1, 2, 3]));
    await until(() => errors().length === 7, 3000, 'seven errors');
    // the bad SDP is answered asynchronously (werift parses it), so its error may come last
    expect(errors().map((e) => e.code).sort()).toEqual(['INVALID_INPUT', ...Array(6).fill('PROTOCOL')]);
    expect(errors()[2]!.message).toMatch(/unknown message type 'dance'/);
    expect(errors()[3]!.message).toMatch(/field 'sdp'/);
    expect(errors()[4]!.message).toMatch(/before 'offer'/);
    // still usable: a real offer now connects
    await c.offer();
    await c.waitFor(() => c.pc.connectionState === 'connected', 10_000, 'connected after bad input');
    c.send({ type: 'offer', sdp: 'v=0' });
    await until(() => errors().length === 8, 3000, 'second offer refused');
    expect(errors()[7]!.message).toMatch(/already has a peer/);
    // an oversized frame closes that socket (1009) and nothing else
    const big = new WebSocket(s.url.replace('http', 'ws') + 'ws');
    const closed = new Promise<number>((resolve) => big.on('close', (code) => resolve(code)));
    await new Promise((r) => big.once('open', r));
    big.send('x'.repeat(5000));
    expect(await closed).toBe(1009);
    expect((await fetch(`${s.url}health`)).status).toBe(200);
    expect(c.pc.connectionState).toBe('connected');
  });

  it('maxWebSockets: the socket at the limit works, the one past it gets an error and is closed (1013)', async () => {
    const s = await server({ maxWebSockets: 2 });
    await client(s.url, false);
    await client(s.url, false);
    const extra = new WebSocket(s.url.replace('http', 'ws') + 'ws');
    const messages: string[] = [];
    extra.on('message', (d) => messages.push(d.toString()));
    const code = await new Promise<number>((resolve) => extra.on('close', (c) => resolve(c)));
    expect(code).toBe(1013);
    expect(JSON.parse(messages[0]!)).toMatchObject({ type: 'error', code: 'RESOURCE_EXHAUSTED' });
    expect(s.health().websocketConnections).toBe(2);
  });

  it('closes a peer that never connects after connectTimeoutMs, with an error message', async () => {
    const s = await server({ connectTimeoutMs: 300 });
    const c = await client(s.url, false);
    // offer, but ignore the answer: ICE can never complete
    c.ws.removeAllListeners('message');
    c.ws.on('message', (d) => c.signals.push(JSON.parse(d.toString()) as Record<string, unknown>));
    await c.offer();
    await until(() => c.signals.some((m) => m.type === 'close'), 3000, 'timeout close');
    expect(c.signals.find((m) => m.type === 'error')).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    // the socket is still open and holds no peer: only its signaling timeout runs
    expect(s.resources()).toMatchObject({ peers: 0, peerSlots: 0, answering: 0, sessions: 0, timers: 0, socketTimers: 1 });
  });
});

describe('WebRTC server: cleanup', () => {
  it('releases every peer, session, pipeline, timer, codec and socket when clients leave or the server closes', async () => {
    const baseCodecs = liveOpusCodecs();
    let finalized = 0;
    const s = await server({ pipeline: (input$: Observable<AudioFrame>) => input$.pipe(echoUtterances(), finalize(() => finalized++)) });
    const a = await client(s.url);
    const b = await client(s.url);
    await a.sendAudio(tone(0.2));
    expect(s.resources()).toMatchObject({ peers: 2, sessions: 2, pipelines: 2, pacers: 2, detectors: 2, websockets: 2, timers: 1 }); // the one shared 20 ms clock
    // a leaves by closing its socket; b by a 'close' message
    await a.close();
    b.send({ type: 'close' });
    await until(() => s.resources().peers === 0 && s.resources().websockets === 1, 5000, 'released');
    // b's socket stays open without a peer: its signaling timeout is the one timer left
    expect(s.resources()).toEqual({ peers: 0, peerSlots: 0, answering: 0, sessions: 0, pipelines: 0, pacers: 0, detectors: 0, opusCodecs: baseCodecs + 2, websockets: 1, addresses: 1, timers: 0, socketTimers: 1 });
    expect(finalized).toBe(2);
    // the server closing drops the remaining socket
    const c = await client(s.url);
    await s.close();
    expect(s.resources()).toMatchObject({ peers: 0, peerSlots: 0, sessions: 0, pipelines: 0, websockets: 0, addresses: 0, timers: 0, socketTimers: 0 });
    await c.close();
    await b.close();
    expect(liveOpusCodecs()).toBe(baseCodecs);
  });
});
