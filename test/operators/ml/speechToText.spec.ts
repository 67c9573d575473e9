import { firstValueFrom, from, lastValueFrom, Subject, toArray } from 'rxjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { engineCacheStats, liveChildProcesses, registerEngine } from '../../../src/engines/index.js';
import { InvalidParamsError } from '../../../src/errors.js';
import { fromAsyncIterable } from '../../../src/flow/pullable.js';
import type { AudioFrame } from '../../../src/media/audioFrame.js';
import { vadTriggeredBuffer } from '../../../src/operators/audio/vadTriggeredBuffer.js';
import { speechToText, type Transcript } from '../../../src/operators/ml/speechToText.js';
import { vad } from '../../../src/operators/ml/vad.js';
import { marbleTest } from '../../../src/testing/index.js';
import { composeSpeech, requireSystemCommand, speak, toFrames } from '../../fixtures/ml/speech.js';

const assertEqual = (a: unknown, e: unknown): void => expect(a).toEqual(e);
const SR = 16_000;
const PHRASES = ['turn on the lights', 'turn off the lights', 'open the door', 'close the door', 'what time is it', 'hello world', 'play some music', 'stop the music', 'good morning', 'call my mother'];

/** A synchronous stand-in engine: "recognizes" the utterance length in samples. */
registerEngine('stt', 'test-length', () => ({
  label: 'test-length',
  capabilities: { sampleRate: SR, grammar: false },
  recognize: (samples) => ({ text: samples.length === 0 ? '' : `n${samples.length}`, confidence: 1 }),
  close: () => undefined,
}));

const utterance = (n: number, pts: number): AudioFrame => ({ samples: new Float32Array(n), sampleRate: SR, channels: 1, pts });

async function waitForNoChildren(): Promise<void> {
  for (let i = 0; i < 100 && liveChildProcesses() > 0; i++) await new Promise((r) => setTimeout(r, 20));
}

describe('speechToText node', () => {
  beforeAll(() => {
    requireSystemCommand('pocketsphinx_batch', 'pocketsphinx');
  });

  // Engines close asynchronously after the last stream ends; each test starts with no process left over.
  afterEach(waitForNoChildren);

  it('emits one Transcript per utterance (fake engine, marbles)', () =>
    marbleTest(({ cold, expectObservable }) => {
      const a = utterance(100, 0);
      const b = utterance(200, 1_000_000);
      expectObservable(cold('-a-b-|', { a, b }).pipe(speechToText({ engine: 'test-length' }))).toBe('-x-y-|', {
        x: { text: 'n100', startPts: 0, endPts: 6250, engine: 'test-length', confidence: 1 },
        y: { text: 'n200', startPts: 1_000_000, endPts: 1_012_500, engine: 'test-length', confidence: 1 },
      });
    }, assertEqual));

  it('completes right after the last transcript and skips empty ones unless emitEmpty', () =>
    marbleTest(({ cold, expectObservable }) => {
      const a = utterance(0, 0);
      const b = utterance(16, 5);
      expectObservable(cold('-a-(b|)', { a, b }).pipe(speechToText({ engine: 'test-length' }))).toBe('---(y|)', {
        y: { text: 'n16', startPts: 5, endPts: 1005, engine: 'test-length', confidence: 1 },
      });
      expectObservable(cold('-a|', { a }).pipe(speechToText({ engine: 'test-length', emitEmpty: true }))).toBe('-x|', {
        x: { text: '', startPts: 0, endPts: 0, engine: 'test-length', confidence: 1 },
      });
    }, assertEqual));

  it('forwards an error from the source', () =>
    marbleTest(({ cold, expectObservable }) => {
      const a = utterance(10, 0);
      expectObservable(cold('-a-#', { a }, new Error('boom')).pipe(speechToText({ engine: 'test-length' }))).toBe('-x-#', {
        x: { text: 'n10', startPts: 0, endPts: 625, engine: 'test-length', confidence: 1 },
      }, new Error('boom'));
    }, assertEqual));

  it('releases the source on early unsubscribe', () =>
    marbleTest(({ cold, expectObservable, expectSubscriptions }) => {
      const a = utterance(10, 0);
      const source = cold('-a-a-a-|', { a });
      const x = { text: 'n10', startPts: 0, endPts: 625, engine: 'test-length', confidence: 1 };
      expectObservable(source.pipe(speechToText({ engine: 'test-length' })), '----!').toBe('-x-x-', { x });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    }, assertEqual));

  it('uses metadata.utterance for the time span and resamples any input format', () =>
    marbleTest(({ cold, expectObservable }) => {
      // 0.5 s of 48 kHz stereo → 8000 samples at the engine's 16 kHz.
      const a = { samples: new Float32Array(48_000), sampleRate: 48_000, channels: 2, pts: 7, metadata: { utterance: { startPts: 7, endPts: 500_007, speechMs: 300 } } };
      expectObservable(cold('-a|', { a }).pipe(speechToText({ engine: 'test-length' }))).toBe('-x|', {
        x: { text: 'n8000', startPts: 7, endPts: 500_007, engine: 'test-length', confidence: 1 },
      });
    }, assertEqual));

  it('pocketsphinx (grammar mode) transcribes espeak-ng utterances exactly, with one warm process', async () => {
    const clips = await Promise.all(PHRASES.map((p) => speak(p)));
    let pts = 0;
    const frames = clips.map((samples) => {
      const f = { samples, sampleRate: SR, channels: 1, pts };
      pts += (samples.length / SR) * 1e6;
      return f;
    });
    let peakChildren = 0;
    const out: Transcript[] = [];
    await new Promise<void>((resolve, reject) =>
      fromAsyncIterable(frames).pipe(speechToText({ phrases: PHRASES })).subscribe({
        next: (t) => {
          out.push(t);
          peakChildren = Math.max(peakChildren, liveChildProcesses());
        },
        error: reject,
        complete: resolve,
      }),
    );
    expect(out.map((t) => t.text)).toEqual(PHRASES);
    expect(out.every((t) => t.engine === 'pocketsphinx')).toBe(true);
    expect(out.map((t) => t.startPts)).toEqual(frames.map((f) => f.pts));
    expect(peakChildren).toBe(1);
    await waitForNoChildren();
    expect(liveChildProcesses()).toBe(0);
  });

  it('transcribes a recording end to end: vad → vadTriggeredBuffer → speechToText', async () => {
    const texts = ['open the door', 'play some music', 'good morning'];
    const recording = await composeSpeech(texts, 1000, 1000);
    const out = await lastValueFrom(
      fromAsyncIterable(toFrames(recording.samples, SR, 20)).pipe(vad(), vadTriggeredBuffer({ minSpeechMs: 300 }), speechToText({ phrases: PHRASES }), toArray()),
    );
    expect(out.map((t) => t.text)).toEqual(texts);
    out.forEach((t, i) => {
      // Utterances include up to 1 s of pre-roll and 0.5 s of trailing silence around the speech.
      expect(t.startPts / 1000).toBeLessThanOrEqual(recording.segments[i]!.startMs);
      expect(t.endPts / 1000).toBeGreaterThanOrEqual(recording.segments[i]!.endMs);
    });
  });

  it('spots keywords', async () => {
    const frames = await Promise.all(['now open the door', 'hello there'].map(async (text, i) => ({ samples: await speak(text), sampleRate: SR, channels: 1, pts: i * 1e6 })));
    const out = await lastValueFrom(fromAsyncIterable(frames).pipe(speechToText({ keywords: ['open the door', 'turn on the lights'], emitEmpty: true }), toArray()));
    expect(out.map((t) => t.text)).toEqual(['open the door', '']);
  });

  it('kills the process when the last subscriber unsubscribes', async () => {
    const input = new Subject<AudioFrame>();
    const subscription = input.pipe(speechToText({ phrases: ['hello world'] })).subscribe();
    input.next({ samples: await speak('hello world'), sampleRate: SR, channels: 1, pts: 0 });
    for (let i = 0; i < 100 && liveChildProcesses() === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(liveChildProcesses()).toBe(1);
    subscription.unsubscribe();
    await waitForNoChildren();
    expect(liveChildProcesses()).toBe(0);
    expect(engineCacheStats().filter((e) => e.kind === 'stt' && e.name === 'pocketsphinx')).toEqual([]);
  });

  it('fails with UNAVAILABLE naming the package and the files when the model directory is missing', async () => {
    const error = await firstValueFrom(from([utterance(1600, 0)]).pipe(speechToText({ phrases: ['hello world'], modelDir: '/nonexistent/models' }))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', node: 'ml.speechToText', name: 'EngineUnavailableError' });
    expect((error as Error).message).toMatch(/pocketsphinx-en-us/);
    expect((error as Error).message).toMatch(/\/nonexistent\/models\/en-us\/mdef/);
  });

  it('fails with UNAVAILABLE naming the Debian packages when the binary is not installed', async () => {
    const path = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      const error = await firstValueFrom(from([utterance(1600, 0)]).pipe(speechToText({ phrases: ['good morning'] }))).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'UNAVAILABLE', node: 'ml.speechToText' });
      expect((error as Error).message).toMatch(/pocketsphinx_batch' not found.*apt-get install -y pocketsphinx pocketsphinx-en-us/);
    } finally {
      process.env['PATH'] = path;
    }
  });

  it('reports a grammar word missing from the dictionary', async () => {
    const error = await firstValueFrom(from([utterance(1600, 0)]).pipe(speechToText({ phrases: ['blorptastic thing'] }))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAVAILABLE' });
    expect((error as Error).message).toMatch(/blorptastic' is missing in the dictionary/);
    await waitForNoChildren();
    expect(liveChildProcesses()).toBe(0);
  });

  it('rejects bad params with the field named', () => {
    expect(() => speechToText({ engine: 'nope' })).toThrow(InvalidParamsError);
    expect(() => speechToText({ engine: 'nope' })).toThrow(/field 'engine'.*unknown stt engine 'nope'/);
    expect(() => speechToText({ phrases: [] })).toThrow(/field 'phrases'/);
    expect(() => speechToText({ queueSize: 0 })).toThrow(/field 'queueSize'/);
  });

  it('fails with INVALID_INPUT for a non-AudioFrame', async () => {
    const error = await firstValueFrom(from(['hello' as unknown as AudioFrame]).pipe(speechToText({ engine: 'test-length' }))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', node: 'ml.speechToText' });
  });
});
