/**
 * Local model directories for transformers.js engines (Whisper, Kokoro): never a hub. The directory comes from the
 * engine option `modelDir`, else `$REMOTEMEDIA_MODELS`; a model lives in `<dir>/<org>/<name>/` (the hub layout).
 * @module
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EngineUnavailableError } from './engineErrors.js';

/** Environment variable naming the local model directory. */
export const MODELS_ENV = 'REMOTEMEDIA_MODELS';

/** The `onnx/` file transformers.js loads for each dtype. */
export const ONNX_FILE_BY_DTYPE: Readonly<Record<string, string>> = {
  fp32: 'model.onnx',
  fp16: 'model_fp16.onnx',
  q8: 'model_quantized.onnx',
  int8: 'model_int8.onnx',
  uint8: 'model_uint8.onnx',
  q4: 'model_q4.onnx',
  q4f16: 'model_q4f16.onnx',
  bnb4: 'model_bnb4.onnx',
};

/**
 * Resolves the model directory and checks that `files` (relative to `<dir>/<modelId>/`) exist.
 * @throws {@link EngineUnavailableError} naming the directory and every missing file.
 */
export function checkLocalModel(engine: string, modelDir: string | undefined, modelId: string, files: readonly string[]): string {
  const dir = modelDir ?? process.env[MODELS_ENV];
  if (dir === undefined || dir === '') {
    throw new EngineUnavailableError(engine, `no model directory: set modelDir or $${MODELS_ENV} to a directory containing ${modelId}/{${files.join(', ')}}`);
  }
  const root = path.join(dir, ...modelId.split('/'));
  const missing = files.filter((f) => !existsSync(path.join(root, f)));
  if (missing.length > 0) {
    throw new EngineUnavailableError(engine, `model files missing in ${root}: ${missing.join(', ')} (expected layout ${dir}/${modelId}/{${files.join(', ')}}; models are never downloaded)`);
  }
  return dir;
}

/** Points transformers.js at `dir` and forbids remote loading (process-wide settings of transformers.js). */
export async function useLocalModels(dir: string): Promise<void> {
  const { env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dir.endsWith('/') ? dir : `${dir}/`;
  // The default cache lives inside node_modules; with remote loading off there is nothing to cache.
  env.useFSCache = false;
}
