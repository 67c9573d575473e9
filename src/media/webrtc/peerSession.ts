/**
 * The werift adapter for one browser: answers its offer, decodes the microphone track into a {@link VoiceSession},
 * encodes the session's 20 ms frames onto the outgoing track and carries events on the `messages` data channel.
 * Only I/O lives here; timing and media logic are in `voiceSession.ts`, `outputAudioQueue.ts`, `rtpAudioInput.ts`.
 * @module
 */
import { RtpHeader, RtpPacket, type RTCDataChannel, type RTCPeerConnection, type RTCRtpTransceiver } from 'werift';
import type { Observable } from 'rxjs';
import type { AudioFrame } from '../audioFrame.js';
import { IntervalHistogram } from './intervalHistogram.js';
import { OpusDecoder, OpusEncoder } from './opusCodec.js';
import type { WebRtcEvent, WebRtcPipeline } from './pipelineTypes.js';
import { serializeEvent } from './pipelineTypes.js';
import { RtpAudioInput } from './rtpAudioInput.js';
import { RemoteMediaError } from '../../errors.js';
import { candidateAddress, isLoopbackAddress, keepLoopbackCandidates, MAX_REMOTE_CANDIDATES, usableCandidate, type IceCandidateJson } from './signaling.js';
import { VoiceSession, type BargeInOptions } from './voiceSession.js';
import { bumpDtlsSequenceOnConnect, createWeriftPeer } from './weriftPeer.js';

/** Options of a {@link PeerSession}. */
export interface PeerSessionOptions {
  readonly peerId: string;
  readonly pipeline: WebRtcPipeline;
  /** Accept ICE only over 127.0.0.0/8 (server bound to loopback). */
  readonly loopbackOnly: boolean;
  /** Remote candidates already in the offer; they count against {@link MAX_REMOTE_CANDIDATES}. Default: 0. */
  readonly offeredCandidates?: number | undefined;
  readonly maxQueuedMs?: number | undefined;
  readonly bargeIn?: BargeInOptions | undefined;
  /** Shared 20 ms clock (see `VoiceSessionOptions.clock`). Default: the session's own. */
  readonly clock?: Observable<unknown> | undefined;
  /** Called with a local ICE candidate to send to the browser. */
  readonly onLocalCandidate: (candidate: IceCandidateJson) => void;
  /** Called once when ICE and DTLS are up (media starts flowing). Default: none. */
  readonly onConnected?: (() => void) | undefined;
  /** Called once when the connection is gone (failed, closed by either side), also while the answer is being made. */
  readonly onClosed: (reason: string) => void;
  readonly warn?: ((message: string) => void) | undefined;
}

/** What `/connections` shows of one peer. */
export interface PeerInfo {
  readonly id: string;
  readonly state: string;
  /** Milliseconds since the offer arrived. */
  readonly ageMs: number;
  readonly dataChannelOpen: boolean;
  readonly inputPackets: number;
  readonly inputFrames: number;
  readonly framesSent: number;
  readonly audioFramesSent: number;
  readonly droppedFrames: number;
  readonly queuedMs: number;
  readonly bargeIns: number;
  /** Intervals between output frames handed to the network after the first second, ms (nominal 20). */
  readonly cadenceP50Ms: number;
  readonly cadenceP99Ms: number;
  /** p99 of |interval − 20 ms|. */
  readonly cadenceJitterP99Ms: number;
}

let livePeers = 0;

/** werift peer connections created by {@link PeerSession} and not yet closed, in this process. */
export function livePeerConnections(): number {
  return livePeers;
}

/** One browser connection. Create with {@link PeerSession.create}, then {@link PeerSession.answer} its offer. */
export class PeerSession {
  private readonly pc: RTCPeerConnection;
  private readonly decoder = new OpusDecoder(48_000, 1);
  private readonly encoder = new OpusEncoder(48_000, 1);
  private readonly input = new RtpAudioInput({ decode: (payload) => this.decoder.decode(payload) });
  private readonly session: VoiceSession;
  private transceiver: RTCRtpTransceiver | undefined;
  private channel: RTCDataChannel | undefined;
  private readonly startedAt = Date.now();
  // Steady state: the first second (DTLS/SCTP set-up, first-use compilation) is not the clock's cadence.
  private readonly cadence = new IntervalHistogram(20, 50);
  private closed = false;
  private remoteCandidates: number;
  private readonly unsubscribers: Array<() => void> = [];

  private constructor(private readonly options: PeerSessionOptions) {
    this.pc = createWeriftPeer(options.loopbackOnly);
    livePeers++;
    this.remoteCandidates = options.offeredCandidates ?? 0;
    this.session = new VoiceSession({
      peerId: options.peerId,
      pipeline: options.pipeline,
      maxQueuedMs: options.maxQueuedMs,
      bargeIn: options.bargeIn,
      clock: options.clock,
      warn: options.warn,
      sendFrame: (frame) => {
        const sender = this.transceiver?.sender;
        if (!sender) return;
        this.cadence.mark(performance.now());
        const header = new RtpHeader({ sequenceNumber: frame.sequenceNumber, timestamp: frame.timestamp, marker: frame.marker, payloadType: 111 });
        void sender.sendRtp(new RtpPacket(header, this.encoder.encode(frame.samples))).catch(() => undefined);
      },
      sendEvent: (event) => this.sendEvent(event),
    });
    this.wire();
  }

  /**
   * Creates the peer (a werift connection, two Opus codecs, a voice session). It holds those until {@link close}, which
   * may come from either side at any time, also while {@link answer} runs; `onClosed` then tells the owner.
   */
  static create(options: PeerSessionOptions): PeerSession {
    return new PeerSession(options);
  }

  /** True once closed (by either side). */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Answers `offerSdp`; resolves to the SDP answer (loopback-filtered when asked).
   * @throws whatever werift throws for an offer it cannot use (the peer is then closed), or `UNAVAILABLE` when the
   *   peer was closed while the answer was being made.
   */
  async answer(offerSdp: string): Promise<string> {
    try {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
      this.assertOpen();
      if (!this.transceiver) throw new RemoteMediaError('INVALID_INPUT', 'the offer has no audio m-line');
      const answer = await this.pc.createAnswer();
      this.assertOpen();
      await this.pc.setLocalDescription(answer);
      this.assertOpen();
      this.unsubscribers.push(bumpDtlsSequenceOnConnect(this.pc));
      const sdp = this.pc.localDescription?.sdp ?? '';
      return this.options.loopbackOnly ? keepLoopbackCandidates(sdp) : sdp;
    } catch (e) {
      this.close('bad offer');
      throw e;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new RemoteMediaError('UNAVAILABLE', 'the peer connection closed while its answer was being made');
  }

  /**
   * Adds a remote ICE candidate. Ignored: after close, end-of-candidates, and candidates the server never uses
   * (not an IP literal, e.g. mDNS `.local`; non-loopback in loopback mode).
   * @throws `RESOURCE_EXHAUSTED` past {@link MAX_REMOTE_CANDIDATES} (offer + trickled).
   */
  async addIceCandidate(candidate: IceCandidateJson): Promise<void> {
    if (this.closed || candidate === null || candidate.candidate === '') return;
    if (!usableCandidate(candidate.candidate, this.options.loopbackOnly)) return;
    if (this.remoteCandidates >= MAX_REMOTE_CANDIDATES) {
      throw new RemoteMediaError('RESOURCE_EXHAUSTED', `more than ${MAX_REMOTE_CANDIDATES} remote ICE candidates on one peer connection`);
    }
    this.remoteCandidates++;
    await this.pc.addIceCandidate({
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid ?? undefined,
      sdpMLineIndex: candidate.sdpMLineIndex ?? undefined,
    });
  }

  /** Snapshot for `/connections`. */
  info(): PeerInfo {
    const s = this.session.stats();
    const cadence = this.cadence.stats();
    return {
      id: this.options.peerId,
      state: this.closed ? 'closed' : this.pc.connectionState,
      ageMs: Date.now() - this.startedAt,
      dataChannelOpen: this.channel?.readyState === 'open',
      inputPackets: this.input.stats().packets,
      inputFrames: s.inputFrames,
      framesSent: s.framesSent,
      audioFramesSent: s.audioFramesSent,
      droppedFrames: s.dropped,
      queuedMs: s.queuedMs,
      bargeIns: s.bargeIns,
      cadenceP50Ms: cadence.intervalP50Ms,
      cadenceP99Ms: cadence.intervalP99Ms,
      cadenceJitterP99Ms: cadence.jitterP99Ms,
    };
  }

  /** Closes everything this peer holds (idempotent); `onClosed` runs once. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const off of this.unsubscribers.splice(0)) off();
    this.session.close();
    this.decoder.close();
    this.encoder.close();
    livePeers--;
    void this.pc.close().catch(() => undefined);
    this.options.onClosed(reason);
  }

  private wire(): void {
    const on = <T extends unknown[]>(event: { subscribe(fn: (...args: T) => void): { unSubscribe(): void } }, fn: (...args: T) => void): void => {
      const sub = event.subscribe(fn);
      this.unsubscribers.push(() => sub.unSubscribe());
    };
    on(this.pc.onRemoteTransceiverAdded, (transceiver: RTCRtpTransceiver) => {
      if (transceiver.kind !== 'audio' || this.transceiver) return;
      this.transceiver = transceiver;
      transceiver.setDirection('sendrecv');
      on(transceiver.onTrack, (track) => {
        on(track.onReceiveRtp, (rtp: RtpPacket) => this.receive(rtp));
      });
    });
    on(this.pc.onDataChannel, (channel: RTCDataChannel) => {
      if (channel.label !== 'messages' || this.channel) return;
      this.channel = channel;
      on(channel.onMessage, (data: string | Buffer) => this.onClientEvent(data));
    });
    on(this.pc.onIceCandidate, (candidate) => {
      if (!candidate) return;
      const json = candidate.toJSON();
      if (this.options.loopbackOnly && !isLoopbackAddress(candidateAddress(json.candidate ?? '') ?? '')) return;
      this.options.onLocalCandidate({ candidate: json.candidate ?? '', sdpMid: json.sdpMid ?? null, sdpMLineIndex: json.sdpMLineIndex ?? null });
    });
    on(this.pc.connectionStateChange, (state) => {
      if (state === 'connected') {
        this.session.start();
        this.options.onConnected?.();
      }
      if (state === 'failed' || state === 'closed' || state === 'disconnected') this.close(`connection ${state}`);
    });
  }

  private receive(rtp: RtpPacket): void {
    const frame: AudioFrame | undefined = this.input.push({ sequenceNumber: rtp.header.sequenceNumber, timestamp: rtp.header.timestamp, payload: rtp.payload });
    if (frame) this.session.pushInput(frame);
  }

  private onClientEvent(data: string | Buffer): void {
    let message: unknown;
    try {
      message = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
    } catch {
      this.sendEvent({ type: 'error', code: 'PROTOCOL', message: 'data channel message is not JSON' });
      return;
    }
    const m = message as { type?: unknown; t?: unknown };
    if (m.type === 'ping') this.sendEvent({ type: 'pong', t: m.t ?? null });
  }

  private sendEvent(event: WebRtcEvent): void {
    if (this.channel?.readyState !== 'open') return;
    try {
      this.channel.send(serializeEvent(event));
    } catch {
      // The channel closed under us; the connection-state handler cleans up.
    }
  }
}
