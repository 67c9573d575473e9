/**
 * One conversation, transport-free: microphone AudioFrames in, the user's pipeline in the middle, paced 20 ms
 * output frames and JSON events out. The werift adapter ({@link ./peerSession.ts}) only moves bytes; everything
 * with timing (pacing, barge-in, pipeline restarts) lives here and runs under a `TestScheduler` in tests.
 * @module
 */
import { asyncScheduler, Observable, Subject, type SchedulerLike, type Subscription } from 'rxjs';
import { errorToData } from '../../errors.js';
import { channelMix } from '../../operators/audio/channelMix.js';
import { energyVad } from '../../operators/audio/energyVad.js';
import { resample } from '../../operators/audio/resample.js';
import { durationMicros, type AudioFrame } from '../audioFrame.js';
import { OutputAudioQueue, type OutputFrame } from './outputAudioQueue.js';
import { pacedFrames } from './pacedFrames.js';
import { isAudioFrame, toEvent, type WebRtcEvent, type WebRtcPipeline, type WebRtcPipelineOutput } from './pipelineTypes.js';

/** Barge-in settings: new user speech while a reply plays stops the reply. */
export interface BargeInOptions {
  /** Turn barge-in on. Default: true. */
  readonly enabled?: boolean;
  /** RMS level of the incoming audio at or above which it counts as speech. Default: 0.02 (≈ −34 dBFS). */
  readonly threshold?: number;
  /** Continuous speech needed to interrupt, in milliseconds (rejects clicks). Default: 60 ms. */
  readonly minSpeechMs?: number;
}

/** Options of a {@link VoiceSession}. */
export interface VoiceSessionOptions {
  /** Connection id, passed to the pipeline and put in events. */
  readonly peerId: string;
  readonly pipeline: WebRtcPipeline;
  /** Receives every output frame (20 ms, silence when idle), on the pacing clock. */
  readonly sendFrame: (frame: OutputFrame) => void;
  /** Receives every event for the data channel. */
  readonly sendEvent: (event: WebRtcEvent) => void;
  /** Reply audio kept waiting, ms (past it the oldest is dropped and counted). Default: 60000 ms. */
  readonly maxQueuedMs?: number;
  readonly bargeIn?: BargeInOptions;
  /**
   * Audio from before the interrupting speech replayed into the restarted pipeline after a barge-in, in ms (the
   * speech itself is always replayed), so the new utterance keeps its beginning. Default: 300 ms.
   */
  readonly replayMs?: number;
  /** How often a `metrics` event is sent, in output frames. Default: 50 (once per second). */
  readonly metricsEveryFrames?: number;
  /** Pacing clock. Default: `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /**
   * Ticks every 20 ms shared by several sessions (one timer for a whole server instead of one per peer), e.g.
   * `pacedFrames(() => undefined).pipe(share())`. Default: a private `pacedFrames` clock on `scheduler`.
   */
  readonly clock?: Observable<unknown>;
  /** Warnings (drops, pipeline errors). Default: `console.warn`. */
  readonly warn?: (message: string) => void;
}

/** Input kept for replay after a barge-in: enough for the interrupting speech (≤ 2 s before it interrupts) + pre-roll. */
const MAX_REMEMBERED_MICROS = 5_000_000;

const live = { sessions: 0, pipelines: 0, pacers: 0, detectors: 0 };

/** Live session resources in this process (sessions, pipeline subscriptions, pacing timers, barge-in detectors). */
export function liveVoiceSessionResources(): Readonly<typeof live> {
  return { ...live };
}

/** Counters of a {@link VoiceSession}. */
export interface VoiceSessionStats {
  readonly inputFrames: number;
  readonly framesSent: number;
  readonly audioFramesSent: number;
  readonly dropped: number;
  readonly queuedMs: number;
  readonly bargeIns: number;
  readonly pipelineErrors: number;
  readonly pipelineStarts: number;
  /** Output frames whose sending threw (reported, never rethrown). */
  readonly outputErrors: number;
}

/**
 * Runs one conversation. `start()` begins the 20 ms output clock and subscribes the pipeline; `pushInput()` feeds
 * microphone audio; `close()` releases everything (idempotent).
 *
 * - Pipeline output: AudioFrames are mixed to mono, resampled to 48 kHz and queued for playback; everything else
 *   becomes a data-channel event (see `toEvent`).
 * - Barge-in: when `minSpeechMs` of incoming speech arrive (or the pipeline emits `{ type: 'vad', isSpeech: true }`)
 *   while reply audio is queued, the queue is cleared (the next 20 ms frame is silence), the pipeline subscription is
 *   dropped — which cancels the in-flight reply, across `remote()` too — and a fresh one starts with the
 *   interrupting speech (plus `replayMs` before it) replayed, so the new utterance keeps its beginning.
 * - A pipeline error is sent as `{ type: 'error' }` and the pipeline restarts on the next input frame.
 */
export class VoiceSession {
  private readonly output: OutputAudioQueue;
  private readonly input = new Subject<AudioFrame>();
  private readonly detectorInput = new Subject<AudioFrame>();
  private readonly recent: AudioFrame[] = [];
  private recentMicros = 0;
  private pipelineSub: Subscription | undefined;
  private pacerSub: Subscription | undefined;
  private detectorSub: Subscription | undefined;
  private speechMicros = 0;
  private wasPlaying = false;
  // Replayed input must not trigger another barge-in: it is the speech that caused this one.
  private replaying = false;
  private closed = false;
  private counts = { inputFrames: 0, bargeIns: 0, pipelineErrors: 0, pipelineStarts: 0, outputErrors: 0 };
  private readonly warn: (message: string) => void;
  private readonly bargeIn: Required<BargeInOptions>;
  private readonly replayMicros: number;

  constructor(private readonly options: VoiceSessionOptions) {
    this.warn = options.warn ?? ((m) => console.warn(m));
    this.bargeIn = { enabled: true, threshold: 0.02, minSpeechMs: 60, ...options.bargeIn };
    this.replayMicros = (options.replayMs ?? 300) * 1000;
    this.output = new OutputAudioQueue({
      maxQueuedMs: options.maxQueuedMs,
      label: 'webrtc.outputTrack',
      onDrop: (total) => {
        // One line per second of dropped audio, not per frame.
        if (total === 1 || total % 50 === 0) this.warn(`[webrtc ${options.peerId}] output queue full: dropped ${total} frame(s) of the oldest reply audio`);
      },
    });
    live.sessions++;
  }

  /** Starts the output clock, the barge-in detector and the pipeline. */
  start(): void {
    if (this.closed || this.pacerSub) return;
    const every = this.options.metricsEveryFrames ?? 50;
    live.pacers++;
    const ticks = this.options.clock ?? pacedFrames(() => undefined, { scheduler: this.options.scheduler ?? asyncScheduler });
    this.pacerSub = ticks.subscribe({
      next: () => {
        try {
          const frame = this.output.next();
          this.options.sendFrame(frame);
          this.playbackEvents(frame);
          if (this.output.stats().framesSent % every === 0) this.options.sendEvent({ type: 'metrics', peerId: this.options.peerId, ...this.stats() });
        } catch (e) {
          // Never let one session's failure escape into the (shared) clock: RxJS would rethrow it asynchronously.
          if (this.counts.outputErrors++ % 50 === 0) this.warn(`[webrtc ${this.options.peerId}] sending a frame failed: ${errorToData(e).message}`);
        }
      },
      error: (e: unknown) => this.warn(`[webrtc ${this.options.peerId}] output clock stopped: ${errorToData(e).message}`),
    });
    this.pacerSub.add(() => live.pacers--);
    if (this.bargeIn.enabled) {
      live.detectors++;
      this.detectorSub = this.detectorInput.pipe(energyVad({ frameMs: 20, threshold: this.bargeIn.threshold })).subscribe({
        next: (frame) => this.detectSpeech(frame),
        error: (e: unknown) => this.warn(`[webrtc ${this.options.peerId}] barge-in detection stopped: ${errorToData(e).message}`),
      });
      this.detectorSub.add(() => live.detectors--);
    }
    if (!this.pipelineSub) this.startPipeline();
  }

  /** Feeds one frame of microphone audio (frames before `start()` are only remembered for replay). */
  pushInput(frame: AudioFrame): void {
    if (this.closed) return;
    this.counts.inputFrames++;
    this.remember(frame);
    if (!this.pipelineSub && this.pacerSub) this.startPipeline();
    this.input.next(frame);
    // After the pipeline has it: a barge-in here restarts the pipeline with `recent`, which includes this frame.
    this.detectorInput.next(frame);
  }

  /** Counters so far. */
  stats(): VoiceSessionStats {
    const out = this.output.stats();
    return { ...this.counts, framesSent: out.framesSent, audioFramesSent: out.audioFrames, dropped: out.dropped, queuedMs: out.queuedMs };
  }

  /**
   * Stops the reply now (barge-in): clears the queue and restarts the pipeline with the interrupting speech
   * (`speechMicros` of it, plus `replayMs` before it) replayed.
   */
  interrupt(reason: string, speechMicros = 0): void {
    if (this.closed) return;
    const cleared = this.output.clear();
    this.counts.bargeIns++;
    this.stopPipeline();
    this.options.sendEvent({ type: 'playback', state: 'interrupted', reason, clearedMs: cleared * 20 });
    this.wasPlaying = false;
    this.startPipeline(this.lastInput(speechMicros + this.replayMicros));
  }

  /** Releases the clock, the pipeline, the detector and the queue. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pacerSub?.unsubscribe();
    this.detectorSub?.unsubscribe();
    this.stopPipeline();
    this.input.complete();
    this.detectorInput.complete();
    this.output.close();
    this.recent.length = 0;
    live.sessions--;
  }

  private startPipeline(backlog: readonly AudioFrame[] = []): void {
    if (this.closed) return;
    const pipeline = typeof this.options.pipeline === 'function' ? this.options.pipeline : this.options.pipeline.pipeline;
    const input$ = new Observable<AudioFrame>((subscriber) => {
      this.replaying = true;
      try {
        for (const frame of backlog) subscriber.next(frame);
      } finally {
        this.replaying = false;
      }
      return this.input.subscribe(subscriber);
    });
    const toTrack = new Subject<AudioFrame>();
    live.pipelines++;
    this.counts.pipelineStarts++;
    const sub = toTrack.pipe(channelMix({ channels: 1 }), resample({ rate: 48_000 })).subscribe({
      next: (frame) => this.output.enqueue(frame),
      error: (e: unknown) => this.pipelineFailed(e),
    });
    sub.add(() => live.pipelines--);
    this.pipelineSub = sub;
    // Events sent from inside the pipeline take the same route as emitted ones (a model VAD's 'vad' can barge in).
    const ctx = { peerId: this.options.peerId, send: (event: WebRtcEvent) => this.emitEvent(event) };
    let source: Observable<WebRtcPipelineOutput>;
    try {
      source = pipeline(input$, ctx);
    } catch (e) {
      this.pipelineFailed(e);
      return;
    }
    sub.add(
      source.subscribe({
        next: (item) => {
          if (isAudioFrame(item)) toTrack.next(item);
          else this.emitEvent(toEvent(item));
        },
        error: (e: unknown) => this.pipelineFailed(e),
        complete: () => toTrack.complete(),
      }),
    );
  }

  private stopPipeline(): void {
    const sub = this.pipelineSub;
    this.pipelineSub = undefined;
    sub?.unsubscribe();
  }

  private pipelineFailed(e: unknown): void {
    this.counts.pipelineErrors++;
    const data = errorToData(e);
    this.warn(`[webrtc ${this.options.peerId}] pipeline failed: ${data.message}`);
    this.options.sendEvent({ type: 'error', code: data.code, message: data.message, node: data.node ?? null });
    // Restarted lazily by the next input frame, so a pipeline that fails at once cannot spin.
    this.stopPipeline();
  }

  private emitEvent(event: WebRtcEvent): void {
    if (event.type === 'vad' && (event.isSpeech === true || event.speech === true) && this.output.playing && !this.replaying) {
      this.interrupt('vad', this.speechMicros);
      return;
    }
    this.options.sendEvent(event);
  }

  private detectSpeech(frame: AudioFrame): void {
    const vad = frame.metadata?.vad as { isSpeech?: boolean } | undefined;
    this.speechMicros = vad?.isSpeech ? this.speechMicros + durationMicros(frame) : 0;
    if (this.speechMicros >= this.bargeIn.minSpeechMs * 1000 && this.output.playing) {
      const speech = this.speechMicros;
      this.speechMicros = 0;
      this.interrupt('speech', speech);
    }
  }

  private playbackEvents(frame: OutputFrame): void {
    if (frame.marker) this.options.sendEvent({ type: 'playback', state: 'started', timestamp: frame.timestamp });
    const playing = !frame.silent;
    if (this.wasPlaying && !playing) this.options.sendEvent({ type: 'playback', state: 'finished', timestamp: frame.timestamp });
    this.wasPlaying = playing;
  }

  private remember(frame: AudioFrame): void {
    this.recent.push(frame);
    this.recentMicros += durationMicros(frame);
    while (this.recent.length > 1 && this.recentMicros - durationMicros(this.recent[0]!) >= MAX_REMEMBERED_MICROS) {
      this.recentMicros -= durationMicros(this.recent.shift()!);
    }
  }

  /** The newest input frames covering at least `micros` (all remembered ones if fewer). */
  private lastInput(micros: number): AudioFrame[] {
    let total = 0;
    let i = this.recent.length;
    while (i > 0 && total < micros) total += durationMicros(this.recent[--i]!);
    return this.recent.slice(i);
  }
}
