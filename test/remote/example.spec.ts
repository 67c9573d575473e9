import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findUtterancesRemotely } from '../../examples/remote-pipeline.js';
import { ROOT, childExecutor, type TestExecutor } from './helpers/executors.js';

interface Sample {
  readonly sentences: Array<{ startMs: number; endMs: number }>;
}

describe('examples/remote-pipeline.ts', () => {
  let executor: TestExecutor;
  let outDir: string;
  beforeAll(async () => {
    executor = await childExecutor();
    outDir = mkdtempSync(join(tmpdir(), 'rm-remote-example-'));
  });
  afterAll(async () => {
    await executor?.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  it('finds each spoken sentence of the sample on a child-process executor and writes one WAV per utterance', async () => {
    const sample = JSON.parse(readFileSync(join(ROOT, 'assets/sample-speech.json'), 'utf8')) as Sample;
    const utterances = await findUtterancesRemotely({ address: executor.address, window: 8 }, join(ROOT, 'assets/sample-speech.wav'), outDir);
    expect(utterances).toHaveLength(sample.sentences.length);
    for (const [i, u] of utterances.entries()) {
      const sentence = sample.sentences[i]!;
      // Each utterance covers its sentence (pre-roll before, trailing silence after).
      expect(u.start * 1000).toBeLessThanOrEqual(sentence.startMs);
      expect(u.end * 1000).toBeGreaterThanOrEqual(sentence.endMs);
      expect(u.file).toMatchObject({ sampleRate: 16000, channels: 1 });
      expect(u.file.durationMs).toBeCloseTo((u.end - u.start) * 1000, 3);
    }
  });
});
