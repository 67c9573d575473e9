import { fileURLToPath } from 'node:url';
import { firstValueFrom, lastValueFrom, Subject, throwError, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { liveChildProcesses } from '../../../src/engines/index.js';
import { InvalidParamsError } from '../../../src/errors.js';
import { fromAsyncIterable } from '../../../src/flow/pullable.js';
import type { AudioFrame } from '../../../src/media/audioFrame.js';
import { resample } from '../../../src/operators/audio/resample.js';
import { vadTriggeredBuffer } from '../../../src/operators/audio/vadTriggeredBuffer.js';
import { speechToText } from '../../../src/operators/ml/speechToText.js';
import { vad } from '../../../src/operators/ml/vad.js';
import { voicePipeline } from '../../../src/operators/ml/voicePipeline.js';
import { remote } from '../../../src/remote/index.js';
import { composeSpeech, toFrames } from '../../fixtures/ml/speech.js';
import { childExecutor } from '../../remote/helpers/executors.js';

const PHRASES = ['open the door', 'good morning', 'play some music', 'call my mother'];
const ML_MODULE = fileURLToPath(new URL('../../../src/operators/ml/index.ts', import.meta.url));

async function waitForNoChildren(): Promise<void> {
  for (let i = 0; i < 100 && liveChildProcesses() > 0; i++) await new Promise((r) => setTimeout(r, 20));
}

/** Transcribes audio with the offline chain (used to check what the pipeline said). */
function transcribe(frames: readonly AudioFrame[]): Promise<string[]> {
  return lastValueFrom(
    fromAsyncIterable(frames).pipe(resample({ rate: 16_000 }), vad(), vadTriggeredBuffer({ minSpeechMs: 300 }), speechToText({ phrases: PHRASES }), toArray()),
  ).then((ts) => ts.map((t) => t.text));
}

describe('voicePipeline node', () => {
  afterEach(waitForNoChildren);

  it('hears a 48 kHz recording and speaks the reply back in 20 ms frames at 24 kHz (echo responder)', async () => {
    // Ends 100 ms after the speech: the open utterance is flushed through every stage on complete.
    const recording = await composeSpeech(['good morning'], 1000, 100, 48_000);
    const out = await lastValueFrom(
      fromAsyncIterable(toFrames(recording.samples, 48_000, 20)).pipe(voicePipeline({ stt: { phrases: PHRASES }, buffer: { minSpeechMs: 300 } }), toArray()),
    );
    expect(out.length).toBeGreaterThan(20);
    expect(out.every((f) => f.sampleRate === 24_000 && f.channels === 1)).toBe(true);
    expect(out.slice(0, -1).every((f) => f.samples.length === 480)).toBe(true);
    out.slice(1).forEach((f, i) => expect(f.pts).toBeCloseTo(out[i]!.pts + 20_000, 3));
    // What it said is what it heard.
    expect(await transcribe(out)).toEqual(['good morning']);
  });

  it('answers each utterance of a longer recording in order', async () => {
    const recording = await composeSpeech(['open the door', 'play some music'], 1500, 800);
    const spoken: AudioFrame[] = [];
    const out = await lastValueFrom(
      fromAsyncIterable(toFrames(recording.samples, 16_000, 20)).pipe(voicePipeline({ stt: { phrases: PHRASES }, buffer: { minSpeechMs: 300 }, frameMs: 40 }), toArray()),
    );
    spoken.push(...out);
    expect(out.slice(0, -1).every((f) => f.samples.length === 960)).toBe(true);
    // Two spoken replies, each about as long as espeak takes to say the phrase (0.6–2 s each).
    const seconds = out.reduce((n, f) => n + f.samples.length, 0) / 24_000;
    expect(seconds).toBeGreaterThan(1.2);
    expect(seconds).toBeLessThan(4);
  });

  it('forwards an error from the source and leaves no process behind on unsubscribe', async () => {
    const error = await firstValueFrom(throwError(() => new Error('mic gone')).pipe(voicePipeline())).catch((e: unknown) => e);
    expect((error as Error).message).toBe('mic gone');
    const mic = new Subject<AudioFrame>();
    // A Subject is a push source: frames pushed faster than real time wait in the vad's queue, sized for it here.
    const failures: unknown[] = [];
    const subscription = mic.pipe(voicePipeline({ vad: { queueSize: 512 }, stt: { phrases: PHRASES }, buffer: { minSpeechMs: 300 } })).subscribe({ error: (e: unknown) => failures.push(e) });
    const recording = await composeSpeech(['good morning'], 1000, 700);
    for (const f of toFrames(recording.samples, 16_000, 20)) mic.next(f);
    for (let i = 0; i < 200 && liveChildProcesses() === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(liveChildProcesses()).toBeGreaterThan(0);
    subscription.unsubscribe();
    await waitForNoChildren();
    expect(liveChildProcesses()).toBe(0);
    expect(failures).toEqual([]);
  });

  it('has a serializable spec and names bad stage params as <stage>.<field>', () => {
    const node = voicePipeline({ vad: { threshold: 0.6 }, stt: { phrases: ['hello world'] } });
    expect(JSON.parse(JSON.stringify(node.spec))).toEqual({
      type: 'ml.voicePipeline',
      params: { vad: { threshold: 0.6 }, stt: { phrases: ['hello world'] }, outputSampleRate: 24_000, frameMs: 20 },
    });
    expect(() => voicePipeline({ vad: { threshold: 5 } })).toThrow(InvalidParamsError);
    expect(() => voicePipeline({ vad: { threshold: 5 } })).toThrow(/field 'vad.threshold'/);
    expect(() => voicePipeline({ stt: { engine: 'nope' } })).toThrow(/field 'stt.engine'/);
    expect(() => voicePipeline({ frameMs: 0 })).toThrow(/field 'frameMs'/);
  });

  it('gives the same transcripts through remote() on a child-process executor as locally', async () => {
    const recording = await composeSpeech(['open the door', 'call my mother', 'good morning'], 1000, 800);
    const chain = [resample({ rate: 16_000 }), vad(), vadTriggeredBuffer({ minSpeechMs: 300 }), speechToText({ phrases: PHRASES })] as const;
    const local = await lastValueFrom(fromAsyncIterable(toFrames(recording.samples, 16_000, 20)).pipe(...chain, toArray()));
    const executor = await childExecutor(['--module', ML_MODULE]);
    try {
      const remoteOut = await lastValueFrom(
        fromAsyncIterable(toFrames(recording.samples, 16_000, 20)).pipe(remote<AudioFrame, { text: string }>({ address: executor.address }, ...chain), toArray()),
      );
      expect(local.map((t) => t.text)).toEqual(['open the door', 'call my mother', 'good morning']);
      expect(remoteOut).toEqual(local);
    } finally {
      await executor.close();
    }
  }, 60_000);
});
