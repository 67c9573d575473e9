/**
 * The pipeline's processing behind `remote()` on a separate executor process: the WebRTC server composes
 * `remote({ address }, energyVad(), vadTriggeredBuffer())` into its pipeline (the media layer knows no gRPC).
 * - real Chromium (fake mic) hears its utterance echoed back through the executor;
 * - barge-in and disconnect unsubscribe the pipeline, which cancels the executor's stream (counted there).
 */
import type { Browser } from 'playwright-core';
import { map, mergeMap, of, pipe, type Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioFrame } from '../../src/media/audioFrame.js';
import type { WebRtcPipelineOutput } from '../../src/media/webrtc/pipelineTypes.js';
import { startWebRtcServer } from '../../src/media/webrtc/server.js';
import { webrtcVoicePipeline } from '../../src/media/webrtc/voicePipelines.js';
import { energyVad } from '../../src/operators/audio/energyVad.js';
import { vadTriggeredBuffer } from '../../src/operators/audio/vadTriggeredBuffer.js';
import { remote } from '../../src/remote/index.js';
import { childExecutor, type TestExecutor } from '../remote/helpers/executors.js';
import { launchWithFakeMic, requireE2ePackages, speechWav, voiceToVoiceMs, type PageState } from '../webrtc/helpers/browser.js';
import { tone, WeriftClient } from '../webrtc/helpers/weriftClient.js';

// Microphone audio is a push source: a burst (network hiccup, or this test sending faster than real time) must not
// fail the stream, so the queue in front of the executor drops the oldest frames past 64 (1.28 s) instead.
const utterancesOn = (address: string) =>
  remote<AudioFrame, AudioFrame>(
    { address, window: 64, overflow: 'drop-oldest' },
    energyVad({ threshold: 0.02, frameMs: 20 }),
    vadTriggeredBuffer({ preRollMs: 100, minSpeechMs: 200, minSilenceMs: 300, maxUtteranceMs: 10_000 }),
  );

const PHRASES = ['please turn on the kitchen lights', 'what is the weather like today', 'open the door', 'good morning'];

const until = async (check: () => boolean | Promise<boolean>, ms: number, what: string) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('webrtc with remote(): processing on a separate executor process', () => {
  let executor: TestExecutor;
  beforeAll(async () => {
    // The ML nodes are loaded as modules until the executor's built-ins include them.
    const ml = ['vad', 'speechToText', 'respond', 'textToSpeech'].flatMap((n) => ['--module', `./src/operators/ml/${n}.ts`]);
    executor = await childExecutor(ml);
  }, 30_000);
  afterAll(async () => {
    await executor?.close();
  });

  it('barge-in and disconnect cancel the executor stream', async () => {
    const pipeline = (input$: Observable<AudioFrame>) =>
      input$.pipe(utterancesOn(executor.address), map((): AudioFrame => ({ samples: tone(3, 0.3, 440), sampleRate: 48_000, channels: 1, pts: 0 })));
    const server = await startWebRtcServer({ port: 0, pipeline, warn: () => undefined });
    const client = await WeriftClient.connect(server.url);
    try {
      await until(async () => (await executor.status()).activeStreams === 1, 5000, 'stream open on the executor');
      const before = (await executor.status()).totalStreams;
      await client.sendAudio(new Float32Array([...tone(0.4), ...new Float32Array(48_000 * 0.4)]));
      await until(() => client.received.filter((f) => f.rms > 0.1).length >= 5, 8000, 'reply playing');
      expect(client.events.filter((e) => e.type === 'error')).toEqual([]);
      void client.sendAudio(tone(0.3), 20); // speak over it
      await until(() => client.events.some((e) => e.type === 'playback' && e.state === 'interrupted'), 5000, 'barge-in');
      // the old stream was cancelled (unsubscribe → gRPC cancel) and a new one opened
      await until(async () => (await executor.status()).totalStreams === before + 1, 5000, 'new executor stream');
      expect((await executor.status()).activeStreams).toBe(1);
      await client.close();
      await until(async () => (await executor.status()).activeStreams === 0, 3000, 'executor stream released after disconnect');
      expect(server.resources()).toMatchObject({ peers: 0, pipelines: 0 });
    } finally {
      await client.close();
      await server.close();
    }
  }, 60_000);

  describe('in real Chromium', () => {
    beforeAll(() => requireE2ePackages({ pocketsphinx: true }));
    let browser: Browser | undefined;
    let wav: ReturnType<typeof speechWav>;
    beforeAll(async () => {
      wav = speechWav('Please turn on the kitchen lights.', { leadS: 0.5, tailS: 2.5 });
      browser = await launchWithFakeMic(wav.path);
    }, 30_000);
    afterAll(async () => {
      await browser?.close();
      wav?.cleanup();
    });

    it('the utterance comes back through the executor as non-silent audio', async () => {
      const pipeline = pipe(
        utterancesOn(executor.address),
        mergeMap((u): Observable<WebRtcPipelineOutput> => of({ type: 'utterance', speechMs: (u.metadata?.utterance as { speechMs: number }).speechMs }, { ...u, metadata: {} })),
      );
      const server = await startWebRtcServer({ port: 0, pipeline, warn: () => undefined });
      try {
        const page = await browser!.newPage();
        await page.goto(server.url);
        await page.click('#connect');
        const read = () => page.evaluate(() => (globalThis as unknown as { remotemedia: PageState }).remotemedia);
        await page.waitForFunction(() => (globalThis as unknown as { remotemedia: PageState }).remotemedia.replyOnsetAt.length > 0, undefined, { timeout: 30_000 });
        await page.waitForTimeout(1500);
        const state = await read();
        expect(state.errors).toEqual([]);
        expect(state.events.some((e) => e.type === 'utterance')).toBe(true);
        expect(state.replyMaxRms).toBeGreaterThan(0.02);
        const v2v = voiceToVoiceMs(state, wav.speechDurationMs);
        expect(v2v).toBeLessThan(1000);
        console.warn(`[webrtc-remote e2e] voice-to-voice through the executor ${v2v} ms (page clock ${state.latencyMs[0]} ms)`);
        await page.close();
      } finally {
        await server.close();
      }
    }, 60_000);

    it(
      'the ML part behind remote(): Silero vad → vadTriggeredBuffer → pocketsphinx → respond(echo) → espeak on the executor',
      async () => {
        const live = { address: executor.address, window: 64, overflow: 'drop-oldest' } as const;
        // three chains on the executor: [vad, vadTriggeredBuffer, speechToText], [respond], [textToSpeech]
        const pipeline = webrtcVoicePipeline({ stt: { phrases: PHRASES }, runRemote: (nodes) => remote(live, ...nodes) });
        const server = await startWebRtcServer({ port: 0, pipeline, warn: () => undefined });
        try {
          const page = await browser!.newPage();
          await page.goto(server.url);
          await page.click('#connect');
          await page.waitForFunction(() => (globalThis as unknown as { remotemedia: PageState }).remotemedia.transcripts.length > 0, undefined, { timeout: 30_000 });
          await page.waitForFunction(() => (globalThis as unknown as { remotemedia: PageState }).remotemedia.replyOnsetAt.length > 0, undefined, { timeout: 30_000 });
          await page.waitForTimeout(2500);
          const state = await page.evaluate(() => (globalThis as unknown as { remotemedia: PageState }).remotemedia);
          expect(state.errors).toEqual([]);
          expect(state.events.filter((e) => e.type === 'error')).toEqual([]);
          expect(state.transcripts[0]).toBe('please turn on the kitchen lights');
          expect(state.replyMaxRms).toBeGreaterThan(0.02);
          expect(state.replySoundMs).toBeGreaterThan(800);
          const v2v = voiceToVoiceMs(state, wav.speechDurationMs);
          console.warn(`[webrtc-remote e2e] ML on the executor: transcript '${state.transcripts[0]}', voice-to-voice ${v2v} ms (page clock ${state.latencyMs[0]} ms)`);
          expect((await executor.status()).activeStreams).toBe(3);
          await page.close();
        } finally {
          await server.close();
        }
        await until(async () => (await executor.status()).activeStreams === 0, 3000, 'executor streams released');
      },
      60_000,
    );
  });
});
