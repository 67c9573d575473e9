import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import WebSocket from 'ws';
import { webrtcCommand } from '../../src/media/webrtc/cli.js';
import {
  addressKey,
  candidateAddress,
  clientErrorText,
  keepLoopbackCandidates,
  MAX_CLIENT_MESSAGE_CHARS,
  MAX_REMOTE_CANDIDATES,
  MAX_SDP_LENGTH,
  MAX_SDP_MEDIA_SECTIONS,
  parseClientMessage,
  prepareOfferSdp,
  usableCandidate,
} from '../../src/media/webrtc/signaling.js';
import { serializeEvent, toEvent } from '../../src/media/webrtc/pipelineTypes.js';
import type { WebRtcServer } from '../../src/media/webrtc/server.js';

describe('signaling messages', () => {
  it('parses the three client messages', () => {
    expect(parseClientMessage('{"type":"offer","sdp":"v=0"}')).toEqual({ ok: true, message: { type: 'offer', sdp: 'v=0' } });
    expect(parseClientMessage('{"type":"ice-candidate","candidate":null}')).toMatchObject({ ok: true });
    expect(parseClientMessage('{"type":"ice-candidate","candidate":{"candidate":"candidate:1 1 udp 2 127.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0}}')).toMatchObject({ ok: true });
    expect(parseClientMessage('{"type":"close"}')).toEqual({ ok: true, message: { type: 'close' } });
  });

  it('answers everything else with a PROTOCOL error naming the problem, never throwing', () => {
    const err = (text: string) => {
      const r = parseClientMessage(text);
      if (r.ok) throw new Error('expected an error');
      return r.error;
    };
    expect(err('nope')).toEqual({ type: 'error', code: 'PROTOCOL', message: 'message is not valid JSON' });
    expect(err('null').message).toMatch(/JSON object/);
    expect(err('{"sdp":"x"}').message).toMatch(/no string "type"/);
    expect(err('{"type":"__proto__"}').message).toMatch(/unknown message type '__proto__'/);
    expect(err('{"type":"offer","sdp":""}').message).toMatch(/field 'sdp'/);
    expect(err(JSON.stringify({ type: 'offer', sdp: 'x'.repeat(MAX_SDP_LENGTH + 1) })).message).toMatch(/field 'sdp'/);
    expect(err('{"type":"ice-candidate","candidate":{"candidate":5}}').message).toMatch(/field 'candidate.candidate'/);
  });

  it('keeps only loopback candidates in an SDP', () => {
    const sdp = ['v=0', 'a=candidate:1 1 udp 2130706431 10.0.0.5 5000 typ host', 'a=candidate:2 1 udp 2130706431 127.0.0.1 5001 typ host', 'a=end-of-candidates'].join('\r\n');
    expect(keepLoopbackCandidates(sdp)).toBe(['v=0', 'a=candidate:2 1 udp 2130706431 127.0.0.1 5001 typ host', 'a=end-of-candidates'].join('\r\n'));
    expect(candidateAddress('candidate:2 1 udp 2130706431 127.0.0.1 5001 typ host')).toBe('127.0.0.1');
  });
});

describe('pipeline output → data-channel events', () => {
  it('maps strings, text chunks, typed events and other values', () => {
    expect(toEvent('hi')).toEqual({ type: 'response', text: 'hi' });
    expect(toEvent({ text: 'hello', engine: 'echo' })).toEqual({ type: 'response', text: 'hello', engine: 'echo' });
    expect(toEvent({ type: 'transcript', text: 'x' })).toEqual({ type: 'transcript', text: 'x' });
    expect(toEvent(42)).toEqual({ type: 'data', value: 42 });
  });

  it('serializes typed arrays as their size and unserializable events as an error event', () => {
    expect(JSON.parse(serializeEvent({ type: 'x', samples: new Float32Array(4) }))).toEqual({ type: 'x', samples: { byteLength: 16 } });
    const cyclic: Record<string, unknown> = { type: 'loop' };
    cyclic.self = cyclic;
    expect(JSON.parse(serializeEvent(cyclic as never))).toMatchObject({ type: 'error', code: 'INVALID_INPUT' });
    expect(JSON.parse(serializeEvent({ type: 'big', n: 1n }))).toMatchObject({ type: 'error' });
  });
});

describe('remotemedia webrtc command', () => {
  it('starts the server with the chosen pipeline and options, and rejects unknown pipelines', async () => {
    let started: WebRtcServer | undefined;
    const program = new Command().exitOverride();
    webrtcCommand(program, { onStarted: (s) => (started = s) });
    await program.parseAsync(['node', 'remotemedia', 'webrtc', '--pipeline', 'echo', '--port', '0', '--max-peers', '2', '--no-barge-in', '--max-websockets-per-address', '1', '--signaling-timeout-ms', '300']);
    expect(started).toBeDefined();
    expect((await (await fetch(`${started!.url}health`)).json()) as unknown).toMatchObject({ status: 'ok' });
    // the per-address and timeout flags reach the server
    const ws = new WebSocket(started!.url.replace('http', 'ws') + 'ws');
    const extra = new WebSocket(started!.url.replace('http', 'ws') + 'ws');
    const codes = await Promise.all([ws, extra].map((s) => new Promise<number>((resolve) => s.on('close', (code) => resolve(code)))));
    expect(codes.sort()).toEqual([1008, 1013]);
    await started!.close();
    const bad = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
    webrtcCommand(bad);
    await expect(bad.parseAsync(['node', 'remotemedia', 'webrtc', '--pipeline', 'nope'])).rejects.toThrow(/nope/);
  });

  it('voice with --executor needs a remote runner; with one, it builds the pipeline through it', async () => {
    const refuse = new Command().exitOverride();
    webrtcCommand(refuse, { onStarted: () => undefined });
    await expect(refuse.parseAsync(['node', 'rm', 'webrtc', '--port', '0', '--executor', '127.0.0.1:1'])).rejects.toThrow(/field 'executor'/);
    const addresses: string[] = [];
    let started: WebRtcServer | undefined;
    const ok = new Command().exitOverride();
    webrtcCommand(ok, {
      onStarted: (s) => (started = s),
      runRemote: (address) => {
        addresses.push(address);
        return () => (source) => source;
      },
    });
    await ok.parseAsync(['node', 'rm', 'webrtc', '--port', '0', '--executor', '127.0.0.1:50051', '--phrases', 'turn on the lights | good morning']);
    expect(addresses).toEqual(['127.0.0.1:50051']);
    await started!.close();
  });
});

describe('offer checks, client error text, address keys (issue #11)', () => {
  const offer = (sections: number, candidates: number, host = '127.0.0.1') =>
    ['v=0', ...Array.from({ length: sections }, (_, i) => `m=audio ${9 + i} UDP/TLS/RTP/SAVPF 111`), ...Array.from({ length: candidates }, (_, i) => `a=candidate:${i} 1 udp 2130706431 ${host} ${5000 + i} typ host`)].join('\r\n');

  it(`media sections: ${MAX_SDP_MEDIA_SECTIONS} pass, ${MAX_SDP_MEDIA_SECTIONS + 1} are refused (RESOURCE_EXHAUSTED)`, () => {
    expect(prepareOfferSdp(offer(MAX_SDP_MEDIA_SECTIONS, 0), true)).toMatchObject({ ok: true });
    expect(prepareOfferSdp(offer(MAX_SDP_MEDIA_SECTIONS + 1, 0), true)).toMatchObject({ ok: false, error: { code: 'RESOURCE_EXHAUSTED', message: expect.stringMatching(/media sections \(max 4\)/) as unknown } });
  });

  it(`candidates: ${MAX_REMOTE_CANDIDATES} pass, ${MAX_REMOTE_CANDIDATES + 1} are refused; unusable ones are dropped, not counted`, () => {
    expect(prepareOfferSdp(offer(1, MAX_REMOTE_CANDIDATES), true)).toMatchObject({ ok: true, candidates: MAX_REMOTE_CANDIDATES });
    expect(prepareOfferSdp(offer(1, MAX_REMOTE_CANDIDATES + 1), true)).toMatchObject({ ok: false, error: { code: 'RESOURCE_EXHAUSTED' } });
    // mDNS and DNS names are never used; non-loopback ones only when not loopback-only
    const named = prepareOfferSdp(offer(1, 100, 'abc.local'), false);
    expect(named).toMatchObject({ ok: true, candidates: 0 });
    expect(named.ok && named.sdp).not.toContain('a=candidate');
    expect(prepareOfferSdp(offer(1, 3, '10.0.0.5'), true)).toMatchObject({ ok: true, candidates: 0 });
    expect(prepareOfferSdp(offer(1, 3, '10.0.0.5'), false)).toMatchObject({ ok: true, candidates: 3 });
    expect(usableCandidate('candidate:1 1 udp 1 example.com 9 typ host', false)).toBe(false);
    expect(usableCandidate('candidate:1 1 udp 1 ::1 9 typ host', false)).toBe(true);
  });

  it('client error text: message only, one line, paths redacted, bounded; library TypeErrors become the fallback', () => {
    const e = new Error('bad thing at /usr/lib/node_modules/werift/lib/sdp.js:12\n    at parse (/work/x.js:1:1)');
    const text = clientErrorText(e, 'fallback');
    expect(text).not.toMatch(/\/usr|\/work|\n/);
    expect(text).toContain('<path>');
    expect(clientErrorText(new TypeError("Cannot read properties of undefined (reading 'iceParams')"), 'malformed SDP')).toBe('malformed SDP');
    expect(clientErrorText(new Error('x'.repeat(MAX_CLIENT_MESSAGE_CHARS)), 'f')).toHaveLength(MAX_CLIENT_MESSAGE_CHARS);
    expect(clientErrorText(new Error('x'.repeat(MAX_CLIENT_MESSAGE_CHARS + 1)), 'f')).toHaveLength(MAX_CLIENT_MESSAGE_CHARS);
    expect(clientErrorText(new Error('x'.repeat(MAX_CLIENT_MESSAGE_CHARS + 1)), 'f').endsWith('…')).toBe(true);
    expect(clientErrorText({ weird: true }, 'fallback')).toBe('fallback');
    expect(clientErrorText(new Error(''), 'fallback')).toBe('fallback');
  });

  it('address keys: IPv4 and IPv4-mapped IPv6 alike, IPv6 by /64, garbage as unknown', () => {
    expect(addressKey('127.0.0.1')).toBe('127.0.0.1');
    expect(addressKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(addressKey('::FFFF:10.1.2.3')).toBe('10.1.2.3');
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2::9')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey(undefined)).toBe('unknown');
    expect(addressKey('nonsense')).toBe('unknown');
  });
});
