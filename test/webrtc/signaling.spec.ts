import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { webrtcCommand } from '../../src/media/webrtc/cli.js';
import { candidateAddress, keepLoopbackCandidates, MAX_SDP_LENGTH, parseClientMessage } from '../../src/media/webrtc/signaling.js';
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
    await program.parseAsync(['node', 'remotemedia', 'webrtc', '--pipeline', 'echo', '--port', '0', '--max-peers', '2', '--no-barge-in']);
    expect(started).toBeDefined();
    expect((await (await fetch(`${started!.url}health`)).json()) as unknown).toMatchObject({ status: 'ok' });
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
