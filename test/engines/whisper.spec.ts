import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { firstValueFrom, from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeEngines, MODELS_ENV } from '../../src/engines/index.js';
import { fromAsyncIterable } from '../../src/flow/pullable.js';
import { speechToText } from '../../src/operators/ml/speechToText.js';
import { WHISPER_ID, writeStandInWhisper } from '../fixtures/ml/modelDirs.js';
import { startRecordingHub, type RecordingHub } from '../fixtures/ml/recordingHub.js';
import { speak } from '../fixtures/ml/speech.js';

let tmp = '';
let models = '';
let hub: RecordingHub;
const SR = 16_000;
const utterance = (seconds: number, pts: number) => ({
  samples: Float32Array.from({ length: seconds * SR }, (_, i) => 0.1 * Math.sin(i / 7)),
  sampleRate: SR,
  channels: 1,
  pts,
});

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'rm-whisper-'));
  models = path.join(tmp, 'models');
  writeStandInWhisper(models);
  // Loading must never ask a hub for anything: this one records every request.
  hub = await startRecordingHub();
});

afterAll(async () => {
  await closeEngines();
  await hub.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('whisper engine (stand-in ONNX encoder + merged decoder)', () => {
  it('loads from a local directory and runs feature extraction, generation and decoding for each utterance', async () => {
    const out = await lastValueFrom(fromAsyncIterable([utterance(1, 0), utterance(2, 3_000_000)]).pipe(speechToText({ engine: 'whisper', modelDir: models }), toArray()));
    // The stand-in decoder's next-token table always spells " hello world": the text proves the tokenizer, the
    // prefix tokens, the KV-cache loop and the ASR decoding all ran.
    expect(out).toEqual([
      { text: 'hello world', startPts: 0, endPts: 1_000_000, engine: 'whisper' },
      { text: 'hello world', startPts: 3_000_000, endPts: 5_000_000, engine: 'whisper' },
    ]);
    expect(hub.requests).toEqual([]);
  });

  it('reads REMOTEMEDIA_MODELS when modelDir is not given', async () => {
    process.env[MODELS_ENV] = models;
    try {
      const [t] = await lastValueFrom(from([utterance(1, 0)]).pipe(speechToText({ engine: 'whisper' }), toArray()));
      expect(t!.text).toBe('hello world');
    } finally {
      delete process.env[MODELS_ENV];
    }
  });

  it('fails with UNAVAILABLE naming the directory and the expected files when the model is missing', async () => {
    const empty = path.join(tmp, 'empty');
    const error = await firstValueFrom(from([utterance(1, 0)]).pipe(speechToText({ engine: 'whisper', modelDir: empty, dtype: 'fp32' }))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', node: 'ml.speechToText', name: 'EngineUnavailableError' });
    expect((error as Error).message).toContain(`${empty}/${WHISPER_ID}`);
    expect((error as Error).message).toMatch(/preprocessor_config\.json.*onnx\/encoder_model\.onnx, onnx\/decoder_model_merged\.onnx/);
    expect(hub.requests).toEqual([]);
  });

  const real = process.env[MODELS_ENV];
  const encoder = path.join(real ?? '', WHISPER_ID, 'onnx', 'encoder_model_quantized.onnx');
  it.runIf(real !== undefined && existsSync(encoder) && statSync(encoder).size > 1_000_000)(
    'REAL WEIGHTS from $REMOTEMEDIA_MODELS: transcribes espeak speech',
    async () => {
      console.warn(`whisper: running with real weights from ${real}`);
      const samples = await speak('open the door');
      const [t] = await lastValueFrom(from([{ samples, sampleRate: SR, channels: 1, pts: 0 }]).pipe(speechToText({ engine: 'whisper', modelDir: real }), toArray()));
      expect(t!.text.toLowerCase()).toMatch(/open the door/);
    },
    120_000,
  );
});
