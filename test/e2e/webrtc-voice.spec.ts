/**
 * The voice pipeline in real headless Chromium: fake mic (espeak-ng) → WebRTC → resample → Silero `vad` →
 * `vadTriggeredBuffer` → `speechToText('pocketsphinx')` → `respond('echo')` → `textToSpeech('espeak')` → the spoken
 * reply back to the browser, measured there with WebAudio; transcript and reply on the data channel.
 */
import { describe, expect, it } from 'vitest';
import { webrtcVoicePipeline } from '../../src/media/webrtc/voicePipelines.js';
import { browserSession, voiceToVoiceMs, type PageState } from '../webrtc/helpers/browser.js';

const SENTENCE = 'please turn on the kitchen lights';
const PHRASES = [SENTENCE, 'what is the weather like today', 'remind me to call my sister tomorrow', 'open the door', 'good morning'];

describe('webrtc e2e: real Chromium, Silero vad + pocketsphinx', () => {
  // resample → Silero vad (live: drop-oldest) → vadTriggeredBuffer → pocketsphinx → respond(echo) → espeak
  const session = browserSession('Please turn on the kitchen lights.', () => webrtcVoicePipeline({ stt: { phrases: PHRASES } }), { pocketsphinx: true });

  it('the transcript arrives on the data channel and the spoken reply is heard (non-silent), with voice-to-voice latency', async () => {
    const page = await session.browser.newPage();
    await page.goto(session.server.url);
    await page.click('#connect');
    const read = () => page.evaluate(() => (globalThis as unknown as { remotemedia: PageState }).remotemedia);
    await page.waitForFunction(() => (globalThis as unknown as { remotemedia: PageState }).remotemedia.transcripts.length > 0, undefined, { timeout: 30_000 });
    await page.waitForFunction(() => (globalThis as unknown as { remotemedia: PageState }).remotemedia.replyOnsetAt.length > 0, undefined, { timeout: 30_000 });
    await page.waitForTimeout(2500); // the reply (~2 s of espeak) plays out
    const state = await read();
    expect(state.errors).toEqual([]);
    expect(state.events.filter((e) => e.type === 'error')).toEqual([]);
    expect(state.transcripts[0]).toBe(SENTENCE);
    expect(state.replies[0]).toBe(SENTENCE); // respond('echo') answers with the transcript
    const vadStates = state.events.filter((e) => e.type === 'vad').map((e) => e.isSpeech);
    expect(vadStates.slice(0, 3)).toEqual([false, true, false]);
    expect(state.replyMaxRms).toBeGreaterThan(0.02);
    expect(state.replySoundMs).toBeGreaterThan(800); // the sentence spoken back
    const v2v = voiceToVoiceMs(state, session.wav.speechDurationMs);
    expect(v2v).toBeGreaterThan(0);
    expect(v2v).toBeLessThan(3000);
    console.warn(`[webrtc-voice e2e] transcript '${state.transcripts[0]}', reply '${state.replies[0]}', voice-to-voice ${v2v} ms (page clock ${state.latencyMs[0]} ms), jitter buffer ${state.jitterBufferMs} ms`);
    await page.close();
  }, 60_000);
});
