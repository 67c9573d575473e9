/**
 * `npm run demo:webrtc` (examples/webrtc-voice.ts) as a person uses it: start it, open the printed URL in a browser,
 * press Connect, speak (fake mic), and hear the reply; then it exits cleanly.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { launchWithFakeMic, requireE2ePackages, speechWav, type PageState } from '../webrtc/helpers/browser.js';


async function startExample(args: string[]) {
  const child = spawn(join(process.cwd(), 'node_modules/.bin/tsx'), ['examples/webrtc-voice.ts', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let url: string | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    url = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(line)?.[1];
    if (url) break;
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, url: url!, exited };
}

describe('examples/webrtc-voice.ts', () => {
  it('prints the page URL, serves it, and stops by itself', async () => {
    const { child, url, exited } = await startExample(['--exit-after-ms', '3000']);
    try {
      expect(url).toBeDefined();
      expect(await (await fetch(url)).text()).toContain('remotemedia voice');
      expect(await (await fetch(`${url}health`)).json()).toEqual({ status: 'ok', activeConnections: 0, websocketConnections: 0 });
      expect(await exited).toBe(0);
    } finally {
      child.kill();
    }
  }, 30_000);

  it('open the URL, press Connect, talk, hear the reply (voice pipeline, real Chromium)', async () => {
    requireE2ePackages({ pocketsphinx: true });
    const wav = speechWav('What is the weather like today?', { leadS: 0.5, tailS: 3 });
    const { child, url } = await startExample(['--phrases', 'what is the weather like today|please turn on the kitchen lights']);
    const browser = await launchWithFakeMic(wav.path);
    try {
      const page = await browser.newPage();
      await page.goto(url);
      await page.click('#connect');
      await page.waitForFunction(() => (globalThis as unknown as { remotemedia: PageState }).remotemedia.replyOnsetAt.length > 0, undefined, { timeout: 30_000 });
      const state = await page.evaluate(() => (globalThis as unknown as { remotemedia: PageState }).remotemedia);
      expect(state.transcripts[0]).toBe('what is the weather like today');
      expect(state.replyMaxRms).toBeGreaterThan(0.02);
      expect(await page.textContent('#log')).toContain('what is the weather like today');
    } finally {
      await browser.close();
      child.kill('SIGTERM');
      wav.cleanup();
    }
  }, 60_000);
});
