import { firstValueFrom, from, lastValueFrom, Subject, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { liveChildProcesses, registerEngine } from '../../../src/engines/index.js';
import { InvalidParamsError } from '../../../src/errors.js';
import { fromAsyncIterable } from '../../../src/flow/pullable.js';
import { resample } from '../../../src/operators/audio/resample.js';
import { speechToText } from '../../../src/operators/ml/speechToText.js';
import { textToSpeech } from '../../../src/operators/ml/textToSpeech.js';
import { marbleTest } from '../../../src/testing/index.js';
import { requireSystemCommand } from '../../fixtures/ml/speech.js';

const assertEqual = (a: unknown, e: unknown): void => expect(a).toEqual(e);

/** A synchronous stand-in: one sample per character, value 0.5, at 1000 Hz. */
registerEngine('tts', 'test-chars', () => ({
  label: 'test-chars',
  capabilities: { sampleRate: 1000, defaultVoice: 'plain' },
  synthesize: (text) => new Float32Array(text.length).fill(0.5),
  close: () => undefined,
}));

const frame = (text: string, pts: number) => ({
  samples: new Float32Array(text.length).fill(0.5),
  sampleRate: 1000,
  channels: 1,
  pts,
  metadata: { tts: { text, engine: 'test-chars', voice: 'plain' } },
});

function rms(samples: Float32Array): number {
  return Math.sqrt(samples.reduce((s, x) => s + x * x, 0) / samples.length);
}

async function waitForNoChildren(): Promise<void> {
  for (let i = 0; i < 100 && liveChildProcesses() > 0; i++) await new Promise((r) => setTimeout(r, 20));
}

describe('textToSpeech node', () => {
  afterEach(waitForNoChildren);

  it('emits one frame per sentence with continuous pts (fake engine, marbles)', () =>
    marbleTest(({ cold, expectObservable }) => {
      expectObservable(cold('-a----b-|', { a: 'Hi there. Bye!', b: { text: 'Ok' } }).pipe(textToSpeech({ engine: 'test-chars' }))).toBe('-(xy)-z-|', {
        x: frame('Hi there.', 0),
        y: frame('Bye!', 9000),
        z: frame('Ok', 13_000),
      });
    }, assertEqual));

  it('completes right after the last sentence', () =>
    marbleTest(({ cold, expectObservable }) => {
      expectObservable(cold('-(a|)', { a: 'One. Two.' }).pipe(textToSpeech({ engine: 'test-chars' }))).toBe('-(xy|)', { x: frame('One.', 0), y: frame('Two.', 4000) });
    }, assertEqual));

  it('forwards an error from the source', () =>
    marbleTest(({ cold, expectObservable }) => {
      expectObservable(cold('-a-#', { a: 'Yes.' }, new Error('llm down')).pipe(textToSpeech({ engine: 'test-chars' }))).toBe('-x-#', { x: frame('Yes.', 0) }, new Error('llm down'));
    }, assertEqual));

  it('releases the source on early unsubscribe', () =>
    marbleTest(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-a-a-|', { a: 'Yes.' });
      expectObservable(source.pipe(textToSpeech({ engine: 'test-chars' })), '--!').toBe('-x-', { x: frame('Yes.', 0) });
      expectSubscriptions(source.subscriptions).toBe('^-!');
    }, assertEqual));

  it('espeak: speaks non-silent audio at 22050 Hz, sentence by sentence as each is ready', async () => {
    requireSystemCommand('espeak-ng', 'espeak-ng');
    const text = 'The quick brown fox jumps over the lazy dog. A second sentence follows here. And a third one ends it.';
    const t0 = performance.now();
    const arrivals: number[] = [];
    const frames = await lastValueFrom(
      from([text]).pipe(textToSpeech(), toArray()),
    ).then((fs) => fs);
    // Timing run: record when each frame arrives.
    await new Promise<void>((resolve, reject) =>
      from([text]).pipe(textToSpeech()).subscribe({ next: () => arrivals.push(performance.now() - t0), error: reject, complete: resolve }),
    );
    expect(frames.map((f) => (f.metadata!['tts'] as { text: string }).text)).toEqual([
      'The quick brown fox jumps over the lazy dog.',
      'A second sentence follows here.',
      'And a third one ends it.',
    ]);
    let pts = 0;
    for (const f of frames) {
      expect(f.sampleRate).toBe(22_050);
      expect(f.channels).toBe(1);
      expect(f.pts).toBeCloseTo(pts, 6);
      pts += (f.samples.length / 22_050) * 1e6;
      const seconds = f.samples.length / 22_050;
      expect(seconds).toBeGreaterThan(1);
      expect(seconds).toBeLessThan(5);
      expect(rms(f.samples)).toBeGreaterThan(0.02);
    }
    // Streaming: the three frames arrive at three distinct times, not all at the end.
    expect(arrivals).toHaveLength(3);
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThan(1);
    expect(arrivals[2]! - arrivals[1]!).toBeGreaterThan(1);
  });

  it('espeak → pocketsphinx round trip recognizes the spoken phrases', async () => {
    requireSystemCommand('espeak-ng', 'espeak-ng');
    const phrases = ['open the door', 'good morning', 'call my mother'];
    const transcripts = await lastValueFrom(
      fromAsyncIterable(phrases).pipe(textToSpeech(), resample({ rate: 16_000 }), speechToText({ phrases }), toArray()),
    );
    expect(transcripts.map((t) => t.text)).toEqual(phrases);
  });

  it('kills the running espeak-ng process on unsubscribe', async () => {
    const input = new Subject<string>();
    const subscription = input.pipe(textToSpeech()).subscribe();
    input.next('This is a long sentence that takes espeak a little while to say out loud.');
    // espeak loads synchronously, so the sentence's process starts inside next().
    expect(liveChildProcesses()).toBe(1);
    subscription.unsubscribe();
    await waitForNoChildren();
    expect(liveChildProcesses()).toBe(0);
  });

  it('fails with UNAVAILABLE naming the package when espeak-ng is not installed', async () => {
    const path = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      const error = await firstValueFrom(from(['Hello.']).pipe(textToSpeech())).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'UNAVAILABLE', node: 'ml.textToSpeech', name: 'EngineUnavailableError' });
      expect((error as Error).message).toMatch(/apt-get install -y espeak-ng/);
    } finally {
      process.env['PATH'] = path;
    }
  });

  it('fails with NODE_FAILED for an unknown espeak voice', async () => {
    const error = await firstValueFrom(from(['Hello.']).pipe(textToSpeech({ voice: 'xx-nonexistent' }))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NODE_FAILED', node: 'ml.textToSpeech' });
  });

  it('rejects bad params and bad input with the field named', async () => {
    expect(() => textToSpeech({ engine: 'nope' })).toThrow(InvalidParamsError);
    expect(() => textToSpeech({ engine: 'nope' })).toThrow(/field 'engine'/);
    expect(() => textToSpeech({ speed: 10 })).toThrow(/field 'speed'/);
    const error = await firstValueFrom(from([42 as unknown as string]).pipe(textToSpeech({ engine: 'test-chars' }))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', node: 'ml.textToSpeech' });
  });
});
