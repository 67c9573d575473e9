/**
 * `kokoro` text-to-speech engine: kokoro-js (Kokoro-82M ONNX via transformers.js and onnxruntime-node), 24 kHz,
 * loading only from a local model directory. Voices ship inside the kokoro-js package.
 * Layout: `<modelDir>/onnx-community/Kokoro-82M-v1.0-ONNX/{config.json, tokenizer.json, tokenizer_config.json,
 * onnx/model.onnx}` (dtype fp32; q8 → onnx/model_quantized.onnx, fp16 → onnx/model_fp16.onnx, ...).
 * @module
 */
import { InvalidParamsError } from '../errors.js';
import { EngineUnavailableError } from './engineErrors.js';
import { checkLocalModel, ONNX_FILE_BY_DTYPE, useLocalModels } from './localModels.js';
import type { EngineOptions, SynthesisOptions, TtsEngine } from './types.js';

const LABEL = 'kokoro';
/** Default model id (a folder under the model directory). */
export const DEFAULT_KOKORO_MODEL = 'onnx-community/Kokoro-82M-v1.0-ONNX';
/** Kokoro's output rate, Hz. */
export const KOKORO_SAMPLE_RATE = 24_000;

/** Options of the kokoro engine. */
export interface KokoroOptions {
  /** Model id under `modelDir`. Default: 'onnx-community/Kokoro-82M-v1.0-ONNX'. */
  readonly model?: string;
  /** Local model directory. Default: $REMOTEMEDIA_MODELS. */
  readonly modelDir?: string;
  /** Weights variant: 'fp32', 'fp16', 'q8', 'q4', 'q4f16'. Default: 'q8'. */
  readonly dtype?: string;
}

/** @throws {@link EngineUnavailableError} naming the directory and missing files. */
export async function loadKokoro(options: EngineOptions): Promise<TtsEngine> {
  const { model = DEFAULT_KOKORO_MODEL, modelDir, dtype = 'q8' } = options as KokoroOptions;
  const onnxFile = ONNX_FILE_BY_DTYPE[dtype];
  if (onnxFile === undefined) throw new InvalidParamsError(`tts.${LABEL}`, 'dtype', `must be one of ${Object.keys(ONNX_FILE_BY_DTYPE).join(', ')}`);
  const dir = checkLocalModel(LABEL, modelDir, model, ['config.json', 'tokenizer.json', 'tokenizer_config.json', `onnx/${onnxFile}`]);
  await useLocalModels(dir);
  const { KokoroTTS } = await import('kokoro-js');
  let tts: Awaited<ReturnType<typeof KokoroTTS.from_pretrained>>;
  try {
    tts = await KokoroTTS.from_pretrained(model, { dtype: dtype as 'fp32', device: 'cpu' });
  } catch (e) {
    throw new EngineUnavailableError(LABEL, `cannot load ${model} from ${dir}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return {
    label: LABEL,
    capabilities: { sampleRate: KOKORO_SAMPLE_RATE, defaultVoice: 'af_heart' },
    async synthesize(text: string, { voice, speed }: SynthesisOptions): Promise<Float32Array> {
      // Checked here: kokoro-js would also print its whole voice table to the console.
      if (!Object.hasOwn(tts.voices, voice)) {
        throw new InvalidParamsError(`tts.${LABEL}`, 'voice', `unknown voice '${voice}'; kokoro-js voices: ${Object.keys(tts.voices).join(', ')}`);
      }
      const audio = await tts.generate(text, { voice: voice as 'af_heart', speed });
      return audio.audio;
    },
    close: async () => {
      await tts.model.dispose();
    },
  };
}
