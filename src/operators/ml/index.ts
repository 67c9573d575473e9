/**
 * The ML family: Silero VAD, speech-to-text, text-to-speech, responders and the speech-to-speech chain. Importing this
 * module registers the nodes and the built-in engines (engines load lazily, on first use).
 * @module
 */
export { vad, type VadParams } from './vad.js';
export { speechToText, type SpeechToTextParams, type Transcript } from './speechToText.js';
export { textToSpeech, type TextToSpeechParams, type TextInput, type SpeechMetadata } from './textToSpeech.js';
export { respond, type RespondParams } from './respond.js';
export { voicePipeline, type VoicePipelineParams } from './voicePipeline.js';
export {
  EngineUnavailableError,
  registerEngine,
  engineNames,
  preloadEngines,
  closeEngines,
  engineCacheStats,
  liveChildProcesses,
  MODELS_ENV,
  type EngineLoader,
  type EngineRequest,
  type EngineCacheEntryStats,
  type Engine,
  type EngineKind,
  type EngineOptions,
  type VadEngine,
  type VadEngineStream,
  type SttEngine,
  type Recognition,
  type TtsEngine,
  type SynthesisOptions,
  type ResponderEngine,
  type ResponderStream,
  type MaybePromise,
} from '../../engines/index.js';
