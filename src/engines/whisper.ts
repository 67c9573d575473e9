/**
 * `whisper` speech-to-text engine: the transformers.js automatic-speech-recognition pipeline (Whisper ONNX on
 * onnxruntime-node), loading only from a local model directory.
 * Layout: `<modelDir>/<model>/{config.json, generation_config.json, preprocessor_config.json, tokenizer.json,
 * tokenizer_config.json, onnx/encoder_model<suffix>.onnx, onnx/decoder_model_merged<suffix>.onnx}` with suffix ''
 * (fp32), '_quantized' (q8), '_fp16', '_q4', ... — the files of the hub repository `onnx-community/whisper-*`.
 * @module
 */
import { InvalidParamsError } from '../errors.js';
import { EngineUnavailableError } from './engineErrors.js';
import { checkLocalModel, ONNX_FILE_BY_DTYPE, useLocalModels } from './localModels.js';
import type { EngineOptions, Recognition, SttEngine } from './types.js';

const LABEL = 'whisper';
/** Default model id (a folder under the model directory). */
export const DEFAULT_WHISPER_MODEL = 'onnx-community/whisper-tiny.en';
const SAMPLE_RATE = 16_000;

/** Options of the whisper engine. */
export interface WhisperOptions {
  /** Model id under `modelDir`. Default: 'onnx-community/whisper-tiny.en'. */
  readonly model?: string;
  /** Local model directory. Default: $REMOTEMEDIA_MODELS. */
  readonly modelDir?: string;
  /** Weights variant. Default: 'q8'. */
  readonly dtype?: string;
  /** Spoken language for multilingual models (e.g. 'english'). Default: the model's (detected). */
  readonly language?: string;
}

type AsrOutput = { text: string } | Array<{ text: string }>;
type Asr = ((audio: Float32Array, options?: Record<string, unknown>) => Promise<AsrOutput>) & { dispose(): Promise<void> };

/** @throws {@link EngineUnavailableError} naming the directory and missing files. */
export async function loadWhisper(options: EngineOptions): Promise<SttEngine> {
  const { model = DEFAULT_WHISPER_MODEL, modelDir, dtype = 'q8', language } = options as WhisperOptions;
  const file = ONNX_FILE_BY_DTYPE[dtype];
  if (file === undefined) throw new InvalidParamsError(`stt.${LABEL}`, 'dtype', `must be one of ${Object.keys(ONNX_FILE_BY_DTYPE).join(', ')}`);
  const suffix = file.slice('model'.length, -'.onnx'.length);
  const dir = checkLocalModel(LABEL, modelDir, model, [
    'config.json',
    'generation_config.json',
    'preprocessor_config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    `onnx/encoder_model${suffix}.onnx`,
    `onnx/decoder_model_merged${suffix}.onnx`,
  ]);
  await useLocalModels(dir);
  const { pipeline } = await import('@huggingface/transformers');
  let asr: Asr;
  try {
    asr = (await pipeline('automatic-speech-recognition', model, { dtype: dtype as 'q8', device: 'cpu' })) as unknown as Asr;
  } catch (e) {
    throw new EngineUnavailableError(LABEL, `cannot load ${model} from ${dir}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return {
    label: LABEL,
    capabilities: { sampleRate: SAMPLE_RATE, grammar: false },
    async recognize(samples: Float32Array): Promise<Recognition> {
      if (samples.length === 0) return { text: '' };
      const out = await asr(samples, language === undefined ? {} : { language, task: 'transcribe' });
      const text = (Array.isArray(out) ? out.map((o) => o.text).join(' ') : out.text).trim().replace(/\s+/g, ' ');
      return { text };
    },
    close: () => asr.dispose(),
  };
}
