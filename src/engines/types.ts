/**
 * Engine interfaces: the ML back-ends behind `vad()`, `speechToText()`, `textToSpeech()` and `respond()`, like
 * Pipecat/LiveKit plugins. An engine is loaded once per process per options (see `acquireEngine` in
 * `engineCache.ts`) and shared by every stream; per-stream state lives in the stream objects it creates.
 *
 * Results may be returned synchronously (`MaybePromise`): the nodes then emit synchronously, which keeps fake engines
 * usable in marble tests. Real engines return promises.
 * @module
 */

/** A value or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** What every engine has. */
export interface Engine {
  /** Engine name as used in node params, e.g. `'pocketsphinx'`. */
  readonly label: string;
  /** Releases models and child processes. Called by the engine cache when the last user is gone. */
  close(): MaybePromise<void>;
}

/** Voice-activity engine: scores fixed windows of mono audio. */
export interface VadEngine extends Engine {
  readonly capabilities: {
    /** Sample rate of the windows the model scores, Hz. */
    readonly sampleRate: number;
    /** Window lengths (samples at `sampleRate`) the model accepts. */
    readonly windowSamples: readonly number[];
  };
  /** A per-stream scorer holding the model's recurrent state. */
  stream(): VadEngineStream;
}

/** Per-stream VAD state. Windows must be scored in order. */
export interface VadEngineStream {
  /** Speech probability (0..1) of each window, in order. `windows` are mono at the engine's rate. */
  score(windows: readonly Float32Array[]): MaybePromise<number[]>;
  /** Drops the recurrent state. */
  close(): void;
}

/** One recognition result of a {@link SttEngine}. */
export interface Recognition {
  /** Recognized text, words separated by single spaces; `''` when nothing was recognized. */
  readonly text: string;
  /** Engine's confidence 0..1, when it reports one. */
  readonly confidence?: number;
}

/** Speech-to-text engine: recognizes whole utterances. */
export interface SttEngine extends Engine {
  readonly capabilities: {
    /** Sample rate of the mono audio {@link SttEngine.recognize} takes, Hz. */
    readonly sampleRate: number;
    /** Recognition constrained by a grammar or keyword list is supported. */
    readonly grammar: boolean;
  };
  /** Recognizes one utterance of mono audio at `capabilities.sampleRate`. Calls may overlap; results keep their call. */
  recognize(samples: Float32Array, signal?: AbortSignal): MaybePromise<Recognition>;
}

/** Voice options of one synthesis call. */
export interface SynthesisOptions {
  /** Engine-specific voice name, e.g. `'af_heart'` (Kokoro) or `'en-us'` (espeak). */
  readonly voice: string;
  /** Speaking-rate factor, 1 = normal. */
  readonly speed: number;
}

/** Text-to-speech engine: synthesizes one sentence at a time. */
export interface TtsEngine extends Engine {
  readonly capabilities: {
    /** Sample rate of the audio it produces, Hz. */
    readonly sampleRate: number;
    /** Default voice. */
    readonly defaultVoice: string;
  };
  /** Mono samples in [-1, 1] at `capabilities.sampleRate`. */
  synthesize(text: string, options: SynthesisOptions, signal?: AbortSignal): MaybePromise<Float32Array>;
}

/** Text-to-reply engine (a chat model, or `echo`). */
export interface ResponderEngine extends Engine {
  /** One conversation (its history lives here); one per subscription. */
  stream(): ResponderStream;
}

/** One conversation with a {@link ResponderEngine}. */
export interface ResponderStream {
  /** Produces the reply to `text`, calling `onDelta` with each piece of it in order as it arrives. */
  reply(text: string, onDelta: (delta: string) => void, signal?: AbortSignal): MaybePromise<void>;
  close(): void;
}

/** Engine kinds and the interface each implements. */
export interface EngineKinds {
  vad: VadEngine;
  stt: SttEngine;
  tts: TtsEngine;
  respond: ResponderEngine;
}

/** One of `'vad' | 'stt' | 'tts' | 'respond'`. */
export type EngineKind = keyof EngineKinds;

/** Serializable engine options as they appear in node params. */
export type EngineOptions = Readonly<Record<string, unknown>>;
