import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { firstValueFrom, from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeEngines, engineCacheStats, MODELS_ENV, preloadEngines } from '../../src/engines/index.js';
import { textToSpeech } from '../../src/operators/ml/textToSpeech.js';
import { KOKORO_ID, writeStandInKokoro } from '../fixtures/ml/modelDirs.js';
import { startRecordingHub, type RecordingHub } from '../fixtures/ml/recordingHub.js';

let tmp = '';
let models = '';
let hub: RecordingHub;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'rm-kokoro-'));
  models = path.join(tmp, 'models');
  writeStandInKokoro(models);
  // Loading must never ask a hub for anything: this one records every request.
  hub = await startRecordingHub();
});

afterAll(async () => {
  await closeEngines();
  await hub.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('kokoro engine (stand-in ONNX model)', () => {
  it('loads from a local directory and emits 24 kHz frames sentence by sentence, through the real kokoro-js path', async () => {
    const frames = await lastValueFrom(from(['Hello world. Good morning!']).pipe(textToSpeech({ engine: 'kokoro', modelDir: models, voice: 'af_heart' }), toArray()));
    expect(frames.map((f) => (f.metadata!['tts'] as { text: string }).text)).toEqual(['Hello world.', 'Good morning!']);
    for (const f of frames) {
      expect(f.sampleRate).toBe(24_000);
      // The stand-in emits one sample per token: the phonemes of the sentence plus two '$' pads; values are ids/1000.
      expect(f.samples.length).toBeGreaterThan(6);
      expect(f.samples[0]).toBe(0);
      expect(f.samples[f.samples.length - 1]).toBe(0);
      expect(Math.max(...f.samples)).toBeGreaterThan(0.001);
    }
    expect(frames[1]!.pts).toBeCloseTo((frames[0]!.samples.length / 24_000) * 1e6, 6);
    expect(hub.requests).toEqual([]);
  });

  it('passes speed to the model (the stand-in scales its output by it)', async () => {
    const [normal] = await lastValueFrom(from(['Hi.']).pipe(textToSpeech({ engine: 'kokoro', modelDir: models }), toArray()));
    const [fast] = await lastValueFrom(from(['Hi.']).pipe(textToSpeech({ engine: 'kokoro', modelDir: models, speed: 2 }), toArray()));
    expect(Array.from(fast!.samples)).toEqual(Array.from(normal!.samples).map((x) => Math.fround(x * 2)));
  });

  it('reads REMOTEMEDIA_MODELS when modelDir is not given, and preloads once', async () => {
    process.env[MODELS_ENV] = models;
    try {
      await preloadEngines([{ kind: 'tts', name: 'kokoro' }]);
      expect(engineCacheStats().filter((e) => e.name === 'kokoro' && e.pinned)).toHaveLength(1);
      const frames = await lastValueFrom(from(['Hi.']).pipe(textToSpeech({ engine: 'kokoro' }), toArray()));
      expect(frames).toHaveLength(1);
      expect(engineCacheStats().filter((e) => e.name === 'kokoro' && e.pinned)).toHaveLength(1);
    } finally {
      delete process.env[MODELS_ENV];
      await closeEngines();
    }
    expect(engineCacheStats()).toEqual([]);
  });

  it('fails with UNAVAILABLE naming the directory and the expected files when the model is missing', async () => {
    const empty = path.join(tmp, 'empty');
    const error = await firstValueFrom(from(['Hi.']).pipe(textToSpeech({ engine: 'kokoro', modelDir: empty }))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', node: 'ml.textToSpeech', name: 'EngineUnavailableError' });
    expect((error as Error).message).toContain(`${empty}/${KOKORO_ID}`);
    expect((error as Error).message).toMatch(/config\.json, tokenizer\.json, tokenizer_config\.json, onnx\/model_quantized\.onnx/);
    const noDir = await firstValueFrom(from(['Hi.']).pipe(textToSpeech({ engine: 'kokoro' }))).catch((e: unknown) => e);
    expect((noDir as Error).message).toMatch(/set modelDir or \$REMOTEMEDIA_MODELS/);
    expect(hub.requests).toEqual([]);
  });

  it('rejects an unknown voice with the voices kokoro-js knows', async () => {
    const error = await firstValueFrom(from(['Hi.']).pipe(textToSpeech({ engine: 'kokoro', modelDir: models, voice: 'zz_nobody' }))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_PARAMS', field: 'voice' });
    expect((error as Error).message).toMatch(/unknown voice 'zz_nobody'; kokoro-js voices: af_heart/);
  });

  const real = process.env[MODELS_ENV];
  it.runIf(real !== undefined && existsSync(path.join(real ?? '', KOKORO_ID, 'onnx', 'model_quantized.onnx')))(
    'REAL WEIGHTS from $REMOTEMEDIA_MODELS: speaks non-silent audio',
    async () => {
      console.warn(`kokoro: running with real weights from ${real}`);
      const [f] = await lastValueFrom(from(['Hello there.']).pipe(textToSpeech({ engine: 'kokoro', modelDir: real }), toArray()));
      expect(f!.samples.length / 24_000).toBeGreaterThan(0.3);
      expect(Math.sqrt(f!.samples.reduce((s, x) => s + x * x, 0) / f!.samples.length)).toBeGreaterThan(0.01);
    },
    120_000,
  );
});
