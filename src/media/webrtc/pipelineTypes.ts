/**
 * What a WebRTC server runs per connection, and how its output is split between the audio track and the data
 * channel.
 * @module
 */
import type { Observable, OperatorFunction } from 'rxjs';
import type { AudioFrame } from '../audioFrame.js';

/**
 * A JSON event for the `messages` data channel. Built-in types: `vad`, `transcript`, `response`, `metrics`,
 * `playback` (`started` / `finished` / `interrupted`), `error`, `pong`.
 */
export interface WebRtcEvent {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** What a pipeline may emit: audio for the outgoing track, or anything else for the data channel. */
export type WebRtcPipelineOutput = AudioFrame | WebRtcEvent | string | { readonly text: string };

/** Per-connection context handed to a pipeline factory. */
export interface WebRtcSessionContext {
  /** Connection id (also in `/connections`). */
  readonly peerId: string;
  /** Sends an event on the data channel right away (e.g. from a `tap()` on a transcript). */
  send(event: WebRtcEvent): void;
}

/**
 * The user's processing for one connection. Microphone audio arrives as 48 kHz mono AudioFrames of 20 ms with pts in
 * µs from the first packet; output AudioFrames of any rate and channel count are converted for the track.
 * Either an operator chain (`pipe(vad(), vadTriggeredBuffer(), …)`, local nodes or `remote(...)`), a function
 * `(input$, ctx) => output$`, or `{ pipeline: (input$, ctx) => output$ }`. It is subscribed once per connection,
 * and again after a barge-in or an error (the old subscription is unsubscribed first: that is the cancellation).
 */
export type WebRtcPipeline =
  | OperatorFunction<AudioFrame, WebRtcPipelineOutput>
  | ((input$: Observable<AudioFrame>, ctx: WebRtcSessionContext) => Observable<WebRtcPipelineOutput>)
  | { readonly pipeline: (input$: Observable<AudioFrame>, ctx: WebRtcSessionContext) => Observable<WebRtcPipelineOutput> };

/** True for an AudioFrame-shaped value (what goes to the track). */
export function isAudioFrame(value: unknown): value is AudioFrame {
  return typeof value === 'object' && value !== null && (value as { samples?: unknown }).samples instanceof Float32Array;
}

/**
 * Maps a non-audio pipeline output to a data-channel event: an object with a string `type` as is; a string, or an
 * object with `text` and no `type` (a text chunk), as `{ type: 'response', text, ... }`; anything else as
 * `{ type: 'data', value }`.
 */
export function toEvent(item: unknown): WebRtcEvent {
  if (typeof item === 'string') return { type: 'response', text: item };
  if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
    const record = item as Record<string, unknown>;
    if (typeof record.type === 'string') return record as WebRtcEvent;
    if (typeof record.text === 'string') return { type: 'response', ...record };
  }
  return { type: 'data', value: item };
}

/**
 * Serializes an event for the data channel; a value JSON cannot represent (a cycle, a BigInt) becomes an `error`
 * event instead of a thrown exception. Typed arrays are sent as their length only.
 */
export function serializeEvent(event: WebRtcEvent): string {
  try {
    return JSON.stringify(event, (_key, value: unknown) => (ArrayBuffer.isView(value) ? { byteLength: value.byteLength } : value));
  } catch (e) {
    return JSON.stringify({ type: 'error', code: 'INVALID_INPUT', message: `event '${String(event.type)}' is not JSON-serializable: ${(e as Error).message}` });
  }
}
