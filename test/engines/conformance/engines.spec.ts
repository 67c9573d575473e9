/**
 * Conformance: every built-in engine honours its interface (shapes, ranges, rates, empty input, sharing, close),
 * run on the real engine (Silero, pocketsphinx, espeak, echo) or on stand-in models (Whisper, Kokoro).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireEngine, closeEngines, engineCacheStats, engineNames, liveChildProcesses } from '../../../src/engines/index.js';
import type { EngineOptions } from '../../../src/engines/types.js';
import { writeStandInKokoro, writeStandInWhisper } from '../../fixtures/ml/modelDirs.js';
import { speak } from '../../fixtures/ml/speech.js';

let models = '';
beforeAll(() => {
  models = mkdtempSync(path.join(os.tmpdir(), 'rm-conformance-'));
  writeStandInKokoro(models);
  writeStandInWhisper(models);
});
afterAll(async () => {
  await closeEngines();
  rmSync(models, { recursive: true, force: true });
});

const options = (extra: EngineOptions = {}): EngineOptions => ({ modelDir: models, ...extra });

it('lists the built-in engines of each kind', () => {
  expect(engineNames('vad')).toContain('silero');
  expect(engineNames('stt')).toEqual(expect.arrayContaining(['pocketsphinx', 'whisper']));
  expect(engineNames('tts')).toEqual(expect.arrayContaining(['espeak', 'kokoro']));
  expect(engineNames('respond')).toEqual(expect.arrayContaining(['echo', 'openai']));
});

describe.each([{ name: 'silero' }])('vad engine $name', ({ name }) => {
  it('scores each window with a probability in [0, 1], with per-stream state', async () => {
    const lease = acquireEngine('vad', name);
    const engine = await lease.engine;
    const size = engine.capabilities.windowSamples[0]!;
    const speech = await speak('hello world', engine.capabilities.sampleRate);
    const windows = Array.from({ length: Math.floor(speech.length / size) }, (_, i) => speech.slice(i * size, (i + 1) * size));
    const a = engine.stream();
    const b = engine.stream();
    const pa = await a.score(windows);
    const pb = await b.score(windows);
    expect(pa).toHaveLength(windows.length);
    expect(pa.every((p) => p >= 0 && p <= 1)).toBe(true);
    expect(pb).toEqual(pa);
    expect(Math.max(...pa)).toBeGreaterThan(0.5);
    a.close();
    b.close();
    lease.release();
  });
});

describe.each([
  // Options are built lazily: the stand-in model directory exists only once beforeAll has run.
  { name: 'pocketsphinx', opts: (): EngineOptions => ({ phrases: ['hello world', 'good morning'] }), recognizesSpeech: true },
  { name: 'whisper', opts: (): EngineOptions => options(), recognizesSpeech: false },
])('stt engine $name', ({ name, opts, recognizesSpeech }) => {
  it('returns { text } for speech and empty text for no audio; results keep their call when calls overlap', async () => {
    const lease = acquireEngine('stt', name, opts());
    const engine = await lease.engine;
    expect(engine.label).toBe(name);
    expect(engine.capabilities.sampleRate).toBe(16_000);
    expect(await engine.recognize(new Float32Array(0))).toEqual({ text: '' });
    const [hello, morning] = await Promise.all([speak('hello world'), speak('good morning')]);
    const [r1, r2] = await Promise.all([engine.recognize(hello), engine.recognize(morning)]);
    expect(typeof r1.text).toBe('string');
    if (recognizesSpeech) expect([r1.text, r2.text]).toEqual(['hello world', 'good morning']);
    lease.release();
  });
});

describe.each([
  { name: 'espeak', opts: (): EngineOptions => ({}), rate: 22_050 },
  { name: 'kokoro', opts: (): EngineOptions => options(), rate: 24_000 },
])('tts engine $name', ({ name, opts, rate }) => {
  it('synthesizes mono samples in [-1, 1] at its declared rate, with its default voice', async () => {
    const lease = acquireEngine('tts', name, opts());
    const engine = await lease.engine;
    expect(engine.capabilities.sampleRate).toBe(rate);
    const samples = await engine.synthesize('Good morning.', { voice: engine.capabilities.defaultVoice, speed: 1 });
    expect(samples).toBeInstanceOf(Float32Array);
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.every((x) => x >= -1 && x <= 1)).toBe(true);
    lease.release();
  });
});

describe('respond engine echo', () => {
  it('replies with the input through onDelta', async () => {
    const lease = acquireEngine('respond', 'echo');
    const conversation = (await lease.engine).stream();
    const deltas: string[] = [];
    await conversation.reply('hi there', (d) => deltas.push(d));
    expect(deltas.join('')).toBe('hi there');
    conversation.close();
    lease.release();
  });
});

it('shares one instance per (kind, name, options) and closes it with its last user', async () => {
  const a = acquireEngine('stt', 'pocketsphinx', { phrases: ['hello world'] });
  const b = acquireEngine('stt', 'pocketsphinx', { phrases: ['hello world'] });
  expect(await a.engine).toBe(await b.engine);
  expect(liveChildProcesses()).toBe(1);
  a.release();
  a.release();
  expect(engineCacheStats().find((e) => e.name === 'pocketsphinx')?.refs).toBe(1);
  b.release();
  for (let i = 0; i < 100 && liveChildProcesses() > 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(liveChildProcesses()).toBe(0);
  expect(engineCacheStats().find((e) => e.name === 'pocketsphinx')).toBeUndefined();
});
