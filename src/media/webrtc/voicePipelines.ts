/**
 * The offline speech-to-speech pipeline for a WebRTC connection, with its intermediate results on the data channel.
 * The speech stages can run on an executor: pass `runRemote`, built by the caller from `remote()` (the media layer
 * itself knows no gRPC).
 * @module
 */
import type { Observable, OperatorFunction } from 'rxjs';
import type { NodeOperator } from '../../node.js';
import { resample } from '../../operators/audio/resample.js';
import { vadTriggeredBuffer, type VadTriggeredBufferParams } from '../../operators/audio/vadTriggeredBuffer.js';
import { respond, type RespondParams } from '../../operators/ml/respond.js';
import { speechToText, type SpeechToTextParams } from '../../operators/ml/speechToText.js';
import { textToSpeech, type TextToSpeechParams } from '../../operators/ml/textToSpeech.js';
import { vad, type VadParams } from '../../operators/ml/vad.js';
import type { AudioFrame } from '../audioFrame.js';
import { sendEvents, vadEvents } from './pipelines.js';
import type { WebRtcPipelineOutput, WebRtcSessionContext } from './pipelineTypes.js';

/** Runs a chain of registered nodes somewhere else, e.g. `(nodes) => remote({ address }, ...nodes)`. */
export type RemoteRunner = (nodes: readonly NodeOperator<unknown, unknown>[]) => OperatorFunction<unknown, unknown>;

/** Options of {@link webrtcVoicePipeline}; each stage's params as in its node. */
export interface WebRtcVoiceOptions {
  /** Silero VAD. Default: `{ queueSize: 250, overflow: 'drop-oldest' }` (live audio: drop rather than fail when behind). */
  readonly vad?: VadParams;
  /** Default: `{ preRollMs: 300, minSpeechMs: 300, minSilenceMs: 250 }` (short silence: a faster reply). */
  readonly buffer?: VadTriggeredBufferParams;
  /** Default: `{ engine: 'pocketsphinx' }`; give `phrases` for exact offline recognition. */
  readonly stt?: SpeechToTextParams;
  /** Default: `{ engine: 'echo' }`. */
  readonly respond?: RespondParams;
  /** Default: `{ engine: 'espeak' }`. */
  readonly tts?: TextToSpeechParams;
  /**
   * Runs the speech stages (vad → vadTriggeredBuffer → speechToText) and the reply stages (respond → textToSpeech)
   * as two chains elsewhere. Default: run here. Model-VAD `vad` events are only sent when the VAD runs here.
   */
  readonly runRemote?: RemoteRunner;
}

/**
 * `resample(16 kHz) → vad → vadTriggeredBuffer → speechToText → respond → textToSpeech`, sending `vad` state changes
 * (when the VAD runs here), each `transcript` and each `response` sentence on the data channel; the reply audio goes
 * back on the track. With `runRemote`, three chains run remotely — [vad, vadTriggeredBuffer, speechToText],
 * [respond], [textToSpeech] — so that the transcript and the reply text still pass through here as events.
 * @example
 * ```ts
 * await startWebRtcServer({ pipeline: webrtcVoicePipeline({ stt: { phrases: ['turn on the lights'] } }) });
 * ```
 */
export function webrtcVoicePipeline(options: WebRtcVoiceOptions = {}): (input$: Observable<AudioFrame>, ctx: WebRtcSessionContext) => Observable<WebRtcPipelineOutput> {
  const { runRemote } = options;
  // Built per subscription: a barge-in restart gets fresh node state.
  const stages = () => ({
    vad: vad({ queueSize: 250, overflow: 'drop-oldest', ...options.vad }),
    buffer: vadTriggeredBuffer({ preRollMs: 300, minSpeechMs: 300, minSilenceMs: 250, ...options.buffer }),
    stt: speechToText({ engine: 'pocketsphinx', ...options.stt }),
    respond: respond({ engine: 'echo', ...options.respond }),
    tts: textToSpeech({ engine: 'espeak', ...options.tts }),
  });
  const remotely = (...nodes: NodeOperator<never, unknown>[]): OperatorFunction<unknown, unknown> => runRemote!(nodes as NodeOperator<unknown, unknown>[]);
  return (input$, ctx) => {
    const s = stages();
    const heard: Observable<unknown> = runRemote
      ? input$.pipe(resample({ rate: 16_000 }), remotely(s.vad, s.buffer, s.stt))
      : input$.pipe(resample({ rate: 16_000 }), s.vad, vadEvents(ctx), s.buffer, s.stt);
    const replies = heard.pipe(sendEvents(ctx, 'transcript'), runRemote ? remotely(s.respond) : (s.respond as OperatorFunction<unknown, string>), sendEvents(ctx, 'response'));
    return replies.pipe(runRemote ? remotely(s.tts) : (s.tts as OperatorFunction<unknown, AudioFrame>)) as Observable<WebRtcPipelineOutput>;
  };
}
