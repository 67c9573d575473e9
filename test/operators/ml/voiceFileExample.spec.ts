import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWavFile } from '../../../src/media/wav.js';

const run = promisify(execFile);
const tsx = join(process.cwd(), 'node_modules/.bin/tsx');

describe('examples/voice-file.ts', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rm-voice-file-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the three transcripts of the bundled recording and writes a spoken reply', async () => {
    const reply = join(dir, 'reply.wav');
    const { stdout } = await run(tsx, [join(process.cwd(), 'examples/voice-file.ts'), join(process.cwd(), 'assets/sample-speech.wav'), reply], { timeout: 60_000 });
    expect(stdout).toContain('"please turn on the kitchen lights"');
    expect(stdout).toContain('"what is the weather like today"');
    expect(stdout).toContain('"remind me to call my sister tomorrow"');
    const { frame, info } = await readWavFile(reply);
    expect(info.sampleRate).toBe(22_050);
    expect(info.durationMs).toBeGreaterThan(4000);
    expect(frame.samples.reduce((m, x) => Math.max(m, Math.abs(x)), 0)).toBeGreaterThan(0.1);
  });
});
