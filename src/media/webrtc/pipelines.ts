/**
 * Ready-made pieces for WebRTC pipelines: an echo pipeline from the built-in audio nodes (no ML, no downloads) and
 * `sendEvents()` to put intermediate results (transcripts, replies) on the data channel.
 * @module
 */
import { mergeMap, Observable, of, pipe, tap, type MonoTypeOperatorFunction, type OperatorFunction } from 'rxjs';
import { energyVad } from '../../operators/audio/energyVad.js';
import { vadTriggeredBuffer } from '../../operators/audio/vadTriggeredBuffer.js';
import type { AudioFrame } from '../audioFrame.js';
import type { WebRtcPipelineOutput, WebRtcSessionContext } from './pipelineTypes.js';

/** Options of {@link echoPipeline}. */
export interface EchoPipelineOptions {
  /** energyVad RMS threshold. Default: 0.02. */
  readonly threshold?: number;
  /** Silence that ends an utterance, ms. Default: 300 ms. */
  readonly minSilenceMs?: number;
  /** Shortest utterance echoed, ms of speech. Default: 200 ms. */
  readonly minSpeechMs?: number;
  /** Audio kept from before speech starts, ms. Default: 100 ms. */
  readonly preRollMs?: number;
}

/**
 * `energyVad → vadTriggeredBuffer`, then each utterance is sent back as the reply, preceded by an
 * `{ type: 'utterance', speechMs, startPts, endPts }` event. The simplest end-to-end check of a voice connection.
 * @example
 * ```ts
 * await startWebRtcServer({ pipeline: echoPipeline() });
 * ```
 */
export function echoPipeline(options: EchoPipelineOptions = {}): OperatorFunction<AudioFrame, WebRtcPipelineOutput> {
  return pipe(
    energyVad({ threshold: options.threshold ?? 0.02, frameMs: 20 }),
    vadTriggeredBuffer({
      preRollMs: options.preRollMs ?? 100,
      minSpeechMs: options.minSpeechMs ?? 200,
      minSilenceMs: options.minSilenceMs ?? 300,
      maxUtteranceMs: 10_000,
    }),
    mergeMap((utterance): Observable<WebRtcPipelineOutput> => {
      const meta = utterance.metadata?.utterance as { speechMs: number; startPts: number; endPts: number } | undefined;
      const reply: AudioFrame = { samples: utterance.samples, sampleRate: utterance.sampleRate, channels: utterance.channels, pts: utterance.pts };
      return of({ type: 'utterance', speechMs: meta?.speechMs ?? 0, startPts: meta?.startPts ?? utterance.pts, endPts: meta?.endPts ?? utterance.pts }, reply);
    }),
  );
}

/**
 * Sends `{ type: 'vad', isSpeech, pts }` on the data channel whenever `metadata.vad.isSpeech` (written by `vad()` or
 * `energyVad()`) changes, and passes the frames on. Besides showing the state on the page, a change to speech while a
 * reply plays is a barge-in.
 */
export function vadEvents(ctx: WebRtcSessionContext): MonoTypeOperatorFunction<AudioFrame> {
  return (source) =>
    new Observable<AudioFrame>((subscriber) => {
      let last: boolean | undefined;
      return source.subscribe({
        next(frame) {
          const isSpeech = (frame.metadata?.vad as { isSpeech?: unknown } | undefined)?.isSpeech;
          if (typeof isSpeech === 'boolean' && isSpeech !== last) {
            last = isSpeech;
            ctx.send({ type: 'vad', isSpeech, pts: frame.pts });
          }
          subscriber.next(frame);
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
    });
}

/**
 * Sends every item passing through as a data-channel event `{ type, ...item }` (strings as `{ type, text }`) and
 * passes it on unchanged. Put it after `speechToText()` to show transcripts while `respond()` consumes them.
 * @example
 * ```ts
 * pipeline: (input$, ctx) => input$.pipe(vad(), vadTriggeredBuffer(), speechToText(), sendEvents(ctx, 'transcript'), respond(), ...)
 * ```
 */
export function sendEvents<T>(ctx: WebRtcSessionContext, type: string): MonoTypeOperatorFunction<T> {
  return tap((item: T) => {
    if (typeof item === 'string') ctx.send({ type, text: item });
    else if (typeof item === 'object' && item !== null && !Array.isArray(item)) ctx.send({ ...(item as Record<string, unknown>), type });
    else ctx.send({ type, value: item });
  });
}
