import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const tsx = join(process.cwd(), 'node_modules/.bin/tsx');

describe('examples run as documented', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rm-examples-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('npm start (examples/demo.ts) finds the three sentences of the bundled recording', async () => {
    const { stdout } = await run(tsx, [join(process.cwd(), 'examples/demo.ts')], { cwd: dir, timeout: 60_000 });
    expect(stdout).toContain('found 3 utterance(s)');
    expect(stdout).toContain('"Please turn on the kitchen lights."');
    expect(stdout).toContain('"What is the weather like today?"');
    expect(stdout).toContain('"Remind me to call my sister tomorrow."');
    for (const n of [1, 2, 3]) expect((await stat(join(dir, `out/utterances/utterance-${n}.wav`))).size).toBeGreaterThan(10_000);
    expect(stdout).toMatch(/remote\(\): the same chain on executor 127\.0\.0\.1:\d+ found 3 utterance\(s\) .* identical to the local run/);
  });

  it('examples/compose-pipeline.ts writes one WAV per utterance into the given directory', async () => {
    const out = join(dir, 'compose');
    const { stdout } = await run(tsx, ['examples/compose-pipeline.ts', 'assets/sample-speech.wav', out], { timeout: 60_000 });
    expect(stdout).toMatch(/^3 utterance\(s\) in /);
    for (const n of [1, 2, 3]) expect((await stat(join(out, `utterance-${n}.wav`))).size).toBeGreaterThan(10_000);
  });
});
