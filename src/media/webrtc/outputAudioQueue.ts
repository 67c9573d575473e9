/**
 * The pure half of the outgoing WebRTC track: reply audio in, exactly one fixed-size frame out per tick, with RTP
 * numbering that never resets. No timers and no I/O here: {@link pacedFrames} calls {@link OutputAudioQueue.next}
 * on the clock, the peer adapter encodes and sends what it returns.
 *
 * @module
 */
import { InvalidInputError, InvalidParamsError } from '../../errors.js';
import { FlowQueue, type FlowStats, flowStats } from '../../flow/flowQueue.js';
import { checkAudioFrame, type AudioFrame } from '../audioFrame.js';

const NODE = 'webrtc.outputTrack';

/** Options of an {@link OutputAudioQueue}. */
export interface OutputAudioQueueOptions {
  /** Sample rate of the track in Hz; reply audio must already be at this rate. Default: 48000 (Opus in WebRTC). */
  readonly sampleRate?: number;
  /** Channels of the track. Default: 1. */
  readonly channels?: number;
  /** Length of one output frame in milliseconds. Default: 20 ms (50 frames per second). */
  readonly frameMs?: number;
  /**
   * Reply audio kept waiting for playback, in milliseconds. Audio produced faster than real time is queued without
   * loss up to this much; past it the OLDEST queued audio is dropped and counted. Default: 60000 ms.
   */
  readonly maxQueuedMs?: number;
  /** First RTP timestamp (uint32). Default: random, as RFC 3550 asks. */
  readonly initialTimestamp?: number;
  /** First RTP sequence number (uint16). Default: random. */
  readonly initialSequenceNumber?: number;
  /** Label of the queue's counters in `flowStats()`. Default: `'webrtc.outputTrack'`. */
  readonly label?: string;
  /** Called once for every frame dropped because the queue was full (so the owner can log it). Default: none. */
  readonly onDrop?: (droppedTotal: number) => void;
}

/** Defaults of {@link OutputAudioQueueOptions}. */
export const DEFAULT_OUTPUT_AUDIO: Readonly<{ sampleRate: number; channels: number; frameMs: number; maxQueuedMs: number }> = Object.freeze({
  sampleRate: 48_000,
  channels: 1,
  frameMs: 20,
  maxQueuedMs: 60_000,
});

/** One output frame: always `frameSamples` long, numbered for RTP. */
export interface OutputFrame {
  /** Interleaved samples, exactly one frame long (silence is zeros). */
  readonly samples: Float32Array;
  /** RTP timestamp (uint32, wraps), advancing by the frame's sample count every frame, silence included. */
  readonly timestamp: number;
  /** RTP sequence number (uint16, wraps), +1 every frame. */
  readonly sequenceNumber: number;
  /** True when the frame is silence because no reply audio was waiting. */
  readonly silent: boolean;
  /** True on the first audio frame after silence (RTP marker bit: start of a talkspurt). */
  readonly marker: boolean;
}

/** Counters of one {@link OutputAudioQueue}. */
export interface OutputAudioStats {
  /** Frames returned by `next()`, silence included. */
  readonly framesSent: number;
  /** Frames of reply audio returned. */
  readonly audioFrames: number;
  /** Frames dropped (oldest first) because more than `maxQueuedMs` was waiting. */
  readonly dropped: number;
  /** Frames discarded by `clear()` (barge-in). */
  readonly cleared: number;
  /** Frames waiting now (a partial frame counts as one). */
  readonly queuedFrames: number;
  /** Milliseconds of audio waiting now. */
  readonly queuedMs: number;
}

const randomUint = (bits: 16 | 32): number => Math.floor(Math.random() * 2 ** bits);

/**
 * Cuts reply audio into fixed frames and hands out one per {@link next} call: the queued audio, or silence when none
 * waits. The RTP timestamp and sequence number advance on every frame and never go back, so consecutive replies
 * form one continuous stream for the receiver's jitter buffer (a reset would make it discard or stretch audio).
 */
export class OutputAudioQueue {
  /** Samples (all channels) in one frame. */
  readonly frameSamples: number;
  private readonly sampleRate: number;
  private readonly channels: number;
  private readonly frameMs: number;
  private readonly queue: FlowQueue<Float32Array>;
  private readonly label: string;
  private readonly onDrop: ((droppedTotal: number) => void) | undefined;
  // A reply rarely ends on a frame boundary: its remainder waits here for the next reply, or is padded with silence.
  private partial: Float32Array;
  private partialLength = 0;
  private timestamp: number;
  private sequenceNumber: number;
  private lastSilent = true;
  private counts = { framesSent: 0, audioFrames: 0, dropped: 0, cleared: 0 };
  private closed = false;

  constructor(options: OutputAudioQueueOptions = {}) {
    this.sampleRate = options.sampleRate ?? DEFAULT_OUTPUT_AUDIO.sampleRate;
    this.channels = options.channels ?? DEFAULT_OUTPUT_AUDIO.channels;
    this.frameMs = options.frameMs ?? DEFAULT_OUTPUT_AUDIO.frameMs;
    const maxQueuedMs = options.maxQueuedMs ?? DEFAULT_OUTPUT_AUDIO.maxQueuedMs;
    const perChannel = (this.sampleRate * this.frameMs) / 1000;
    if (!Number.isInteger(perChannel) || perChannel <= 0) {
      throw new InvalidParamsError(NODE, 'frameMs', `${this.frameMs} ms at ${this.sampleRate} Hz is not a whole number of samples`);
    }
    if (!(maxQueuedMs >= this.frameMs)) throw new InvalidParamsError(NODE, 'maxQueuedMs', `must be at least one frame (${this.frameMs} ms), got ${maxQueuedMs}`);
    this.frameSamples = perChannel * this.channels;
    this.label = options.label ?? NODE;
    this.onDrop = options.onDrop;
    this.queue = new FlowQueue<Float32Array>({ size: Math.ceil(maxQueuedMs / this.frameMs), overflow: 'drop-oldest', node: NODE, label: this.label });
    this.partial = new Float32Array(this.frameSamples);
    this.timestamp = (options.initialTimestamp ?? randomUint(32)) >>> 0;
    this.sequenceNumber = (options.initialSequenceNumber ?? randomUint(16)) & 0xffff;
  }

  /** True while reply audio waits to be played (barge-in applies only then). */
  get playing(): boolean {
    return this.queue.length > 0 || this.partialLength > 0;
  }

  /**
   * Queues reply audio. It must be at the track's sample rate and channel count (the session resamples before).
   * @throws {@link InvalidInputError} for a frame of another format.
   */
  enqueue(item: AudioFrame): void {
    if (this.closed) return;
    const frame = checkAudioFrame(item, NODE);
    if (frame.sampleRate !== this.sampleRate || frame.channels !== this.channels) {
      throw new InvalidInputError(NODE, 'sampleRate', `expected ${this.sampleRate} Hz × ${this.channels} channel(s), got ${frame.sampleRate} Hz × ${frame.channels}`);
    }
    const { samples } = frame;
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(this.frameSamples - this.partialLength, samples.length - offset);
      this.partial.set(samples.subarray(offset, offset + take), this.partialLength);
      this.partialLength += take;
      offset += take;
      if (this.partialLength === this.frameSamples) this.pushFrame(this.partial);
    }
  }

  /** The next frame to send: the oldest queued audio, the held remainder padded with silence, or silence. */
  next(): OutputFrame {
    let samples = this.queue.shift();
    if (samples === undefined && this.partialLength > 0) {
      samples = this.partial.slice(); // the tail of a reply: zeros after partialLength already (reset on push)
      this.resetPartial();
    }
    const silent = samples === undefined;
    const frame: OutputFrame = {
      samples: samples ?? new Float32Array(this.frameSamples),
      timestamp: this.timestamp,
      sequenceNumber: this.sequenceNumber,
      silent,
      marker: !silent && this.lastSilent,
    };
    this.lastSilent = silent;
    this.timestamp = (this.timestamp + this.frameSamples / this.channels) >>> 0;
    this.sequenceNumber = (this.sequenceNumber + 1) & 0xffff;
    this.counts.framesSent++;
    if (!silent) this.counts.audioFrames++;
    return frame;
  }

  /** Discards all waiting reply audio (barge-in); numbering continues unchanged. Returns the frames discarded. */
  clear(): number {
    let n = this.partialLength > 0 ? 1 : 0;
    this.resetPartial();
    while (this.queue.shift() !== undefined) n++;
    this.counts.cleared += n;
    return n;
  }

  /** Counters and the current backlog. */
  stats(): OutputAudioStats {
    const queuedFrames = this.queue.length + (this.partialLength > 0 ? 1 : 0);
    const queuedMs = ((this.queue.length * this.frameSamples + this.partialLength) / this.frameSamples) * this.frameMs;
    return { ...this.counts, queuedFrames, queuedMs };
  }

  /** The shared `flowStats()` counters of this queue's label. */
  flowStats(): FlowStats {
    return flowStats(this.label);
  }

  /** Releases the queue (idempotent); later `enqueue` calls are ignored. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.close();
    this.resetPartial();
  }

  private pushFrame(frame: Float32Array): void {
    const before = this.queue.isFull;
    this.queue.offer(frame.slice(), false);
    this.resetPartial();
    if (before) {
      this.counts.dropped++;
      this.onDrop?.(this.counts.dropped);
    }
  }

  private resetPartial(): void {
    if (this.partialLength > 0) this.partial.fill(0);
    this.partialLength = 0;
  }
}
