/**
 * Real headless Chromium (Debian `chromium`, driven by playwright-core; never a downloaded browser) with a fake
 * microphone that plays a WAV file once, and an espeak-ng WAV generator for that microphone.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startWebRtcServer, type WebRtcServer, type WebRtcServerOptions } from '../../../src/media/webrtc/server.js';
import wavefile from 'wavefile';

export const CHROMIUM = '/usr/bin/chromium';

const POCKETSPHINX_MODEL = '/usr/share/pocketsphinx/model/en-us/en-us';

/**
 * Fails (never skips) when a browser e2e prerequisite is missing, naming the Debian packages to install;
 * `npm test`'s set-up step (scripts/setup-test-deps.sh) installs them on a fresh machine.
 */
export function requireE2ePackages(options: { pocketsphinx?: boolean } = {}): void {
  const missing: string[] = [];
  if (!existsSync(CHROMIUM)) missing.push('chromium');
  if (!hasCommand('espeak-ng')) missing.push('espeak-ng');
  if (options.pocketsphinx === true && (!hasCommand('pocketsphinx_batch') || !existsSync(POCKETSPHINX_MODEL))) missing.push('pocketsphinx', 'pocketsphinx-en-us');
  if (missing.length > 0) throw new Error(`missing system packages for the browser e2e tests: apt-get install -y ${missing.join(' ')}`);
}

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Speaks `text` with espeak-ng into a 16-bit mono WAV with `leadS` seconds of silence before and `tailS` after
 * (the silence after the speech ends the utterance; the fake mic stops at the end of the file).
 */
export function speechWav(
  text: string,
  options: { leadS?: number; tailS?: number; dir?: string } = {},
): { path: string; speechEndS: number; speechDurationMs: number; cleanup: () => void } {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'rm-webrtc-'));
  const raw = join(dir, 'raw.wav');
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', raw, text]);
  const wav = new wavefile.WaveFile(readFileSync(raw));
  const rate = (wav.fmt as { sampleRate: number }).sampleRate;
  const speech = wav.getSamples(false, Int16Array) as unknown as Int16Array;
  const lead = Math.round((options.leadS ?? 0.5) * rate);
  const tail = Math.round((options.tailS ?? 2) * rate);
  const out = new Int16Array(lead + speech.length + tail);
  out.set(speech, lead);
  const padded = new wavefile.WaveFile();
  padded.fromScratch(1, rate, '16', out);
  const path = join(dir, 'mic.wav');
  writeFileSync(path, padded.toBuffer());
  // Audible speech: first to last sample above 1 % of full scale (espeak pads its output with near-silence).
  const loud = (v: number) => Math.abs(v) > 328;
  const first = speech.findIndex(loud);
  let last = speech.length - 1;
  while (last > 0 && !loud(speech[last]!)) last--;
  return {
    path,
    speechEndS: (lead + last + 1) / rate,
    speechDurationMs: ((last + 1 - Math.max(0, first)) / rate) * 1000,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Launches Chromium whose microphone plays `wavPath` once (`%noloop`). Close it in `finally`/`afterAll`. */
export async function launchWithFakeMic(wavPath: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wavPath}%noloop`,
      '--allow-loopback-in-peer-connection',
      '--disable-features=WebRtcHideLocalIpsWithMdns,LocalNetworkAccessChecks',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** What the page exposes as `window.remotemedia`. */
export interface PageState {
  status: string;
  peerId: string | null;
  events: Array<Record<string, unknown>>;
  eventTimes: number[];
  transcripts: string[];
  replies: string[];
  errors: Array<Record<string, unknown>>;
  latencyMs: number[];
  rttMs: number[];
  micMaxRms: number;
  replyMaxRms: number;
  replySoundMs: number;
  connectMs: number | null;
  dataChannelOpenMs: number | null;
  jitterBufferMs: number | null;
  speechEndAt: number[];
  playbackStartedAt: number[];
  micOnsetAt: number[];
  replyOnsetAt: number[];
}

/**
 * Voice-to-voice latency from onsets, independent of level thresholds at the fading end of a sentence: the reply's
 * onset minus the mic's onset minus the audible speech duration of the WAV (both onsets from the page's WebAudio
 * AnalyserNodes, so the browser's capture and render buffering is included, as a listener would hear it).
 */
export function voiceToVoiceMs(state: PageState, speechDurationMs: number, index = 0): number {
  return Math.round(state.replyOnsetAt[index]! - state.micOnsetAt[index]! - speechDurationMs);
}

/** What {@link browserSession} sets up for a describe block. */
export interface BrowserSession {
  readonly server: WebRtcServer;
  readonly browser: Browser;
  readonly wav: ReturnType<typeof speechWav>;
}

/**
 * Registers hooks that, for the enclosing describe block, check the system packages, start a WebRTC server with
 * `pipeline` and a headless Chromium whose fake microphone speaks `sentence`, and release all three afterwards.
 * Read the running pieces from the returned object inside tests.
 */
export function browserSession(
  sentence: string,
  pipeline: () => WebRtcServerOptions['pipeline'],
  options: { pocketsphinx?: boolean } = {},
): BrowserSession {
  const session = {} as { server: WebRtcServer; browser: Browser; wav: ReturnType<typeof speechWav> };
  beforeAll(async () => {
    requireE2ePackages(options);
    session.wav = speechWav(sentence, { leadS: 0.5, tailS: 2.5 });
    session.server = await startWebRtcServer({ port: 0, pipeline: pipeline(), warn: () => undefined });
    session.browser = await launchWithFakeMic(session.wav.path);
  }, 30_000);
  afterAll(async () => {
    await session.browser?.close();
    await session.server?.close();
    session.wav?.cleanup();
  });
  return session;
}
