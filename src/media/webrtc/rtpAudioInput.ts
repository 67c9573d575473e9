/**
 * The pure half of the incoming WebRTC track: RTP packets (sequence number, timestamp, Opus payload) in, AudioFrames
 * with microsecond pts out. The decoder is injected, so this runs in tests without a codec or a network.
 * @module
 */
import { fromInt16, MICROS_PER_SECOND, type AudioFrame } from '../audioFrame.js';

/** What {@link RtpAudioInput} needs of an RTP packet. */
export interface RtpAudioPacket {
  /** uint16, wraps. */
  readonly sequenceNumber: number;
  /** uint32 in units of the clock rate, wraps. */
  readonly timestamp: number;
  readonly payload: Uint8Array;
}

/** Options of an {@link RtpAudioInput}. */
export interface RtpAudioInputOptions {
  /** Decodes one payload into interleaved Int16 PCM at `sampleRate` (e.g. an Opus decoder). */
  readonly decode: (payload: Uint8Array) => Int16Array;
  /** Sample rate of the decoded audio, Hz; also the RTP clock rate (48000 for Opus). Default: 48000. */
  readonly sampleRate?: number;
  /** Channels of the decoded audio. Default: 1. */
  readonly channels?: number;
}

/** Counters of an {@link RtpAudioInput}. */
export interface RtpAudioInputStats {
  /** Packets offered. */
  readonly packets: number;
  /** AudioFrames produced. */
  readonly frames: number;
  /** Packets older than one already decoded (reordered or duplicated), dropped. */
  readonly late: number;
  /** Packets missing by sequence number (never arrived before a later one). */
  readonly lost: number;
  /** Payloads the decoder rejected, dropped. */
  readonly decodeErrors: number;
}

/**
 * Turns RTP audio packets into AudioFrames. pts (µs) = (timestamp − first timestamp) / clock rate, with both
 * counters unwrapped, so pts is continuous across the uint32 wrap and gaps (lost packets, DTX) show as pts gaps.
 * Packets that arrive after a later one are dropped (a stream consumer wants monotonic pts more than one
 * reordered 20 ms), as are undecodable ones; both are counted, never thrown: bad packets from a peer must not end
 * the session.
 */
export class RtpAudioInput {
  private readonly decode: (payload: Uint8Array) => Int16Array;
  private readonly sampleRate: number;
  private readonly channels: number;
  private firstTimestamp: number | undefined;
  private lastTimestamp = 0; // unwrapped, relative to the first
  private lastSequence = 0; // unwrapped
  private counts = { packets: 0, frames: 0, late: 0, lost: 0, decodeErrors: 0 };

  constructor(options: RtpAudioInputOptions) {
    this.decode = options.decode;
    this.sampleRate = options.sampleRate ?? 48_000;
    this.channels = options.channels ?? 1;
  }

  /** Decodes one packet; `undefined` when it is late or undecodable. */
  push(packet: RtpAudioPacket): AudioFrame | undefined {
    this.counts.packets++;
    let relative: number;
    if (this.firstTimestamp === undefined) {
      this.firstTimestamp = packet.timestamp >>> 0;
      this.lastSequence = packet.sequenceNumber & 0xffff;
      relative = 0;
    } else {
      // Signed 32-bit / 16-bit differences unwrap the counters as long as packets are less than half a cycle apart.
      relative = this.lastTimestamp + ((((packet.timestamp >>> 0) - ((this.firstTimestamp + this.lastTimestamp) >>> 0)) | 0));
      const sequence = this.lastSequence + ((((packet.sequenceNumber & 0xffff) - (this.lastSequence & 0xffff)) << 16) >> 16);
      if (sequence <= this.lastSequence || relative < this.lastTimestamp) {
        this.counts.late++;
        return undefined;
      }
      this.counts.lost += sequence - this.lastSequence - 1;
      this.lastSequence = sequence;
    }
    let pcm: Int16Array;
    try {
      pcm = this.decode(packet.payload);
    } catch {
      this.counts.decodeErrors++;
      return undefined;
    }
    this.lastTimestamp = relative;
    this.counts.frames++;
    return {
      samples: fromInt16(pcm),
      sampleRate: this.sampleRate,
      channels: this.channels,
      pts: (relative * MICROS_PER_SECOND) / this.sampleRate,
    };
  }

  /** Counters so far. */
  stats(): RtpAudioInputStats {
    return { ...this.counts };
  }
}
