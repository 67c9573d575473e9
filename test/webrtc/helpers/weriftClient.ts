/**
 * An in-process stand-in for the browser: a werift peer that signals over the server's /ws exactly like the page,
 * sends Opus RTP from given samples and decodes what comes back.
 */
import { RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCDataChannel, type RTCRtpTransceiver } from 'werift';
import WebSocket from 'ws';
import { OpusDecoder, OpusEncoder } from '../../../src/media/webrtc/opusCodec.js';

export interface ReceivedFrame {
  readonly at: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly marker: boolean;
  readonly rms: number;
}

const loopback = (host: string) => host.startsWith('127.');

export class WeriftClient {
  readonly ws: WebSocket;
  readonly pc: RTCPeerConnection;
  readonly transceiver: RTCRtpTransceiver;
  readonly channel: RTCDataChannel;
  readonly signals: Array<Record<string, unknown>> = [];
  readonly events: Array<Record<string, unknown>> = [];
  /** performance.now() at which each entry of `events` arrived. */
  readonly eventTimes: number[] = [];
  readonly received: ReceivedFrame[] = [];
  private readonly encoder = new OpusEncoder(48_000, 1);
  private readonly decoder = new OpusDecoder(48_000, 1);
  private seq = 1000;
  private ts = 123_456;
  private closed = false;

  private constructor(url: string) {
    this.ws = new WebSocket(url.replace(/^http/, 'ws') + 'ws');
    this.pc = new RTCPeerConnection({
      codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2 })] },
      iceServers: [],
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceFilterStunResponse: (_m, addr) => loopback(addr[0]),
      iceFilterCandidatePair: (pair) => loopback(pair.remoteCandidate.host) && loopback(pair.localCandidate.host),
    });
    this.transceiver = this.pc.addTransceiver('audio', { direction: 'sendrecv' });
    this.channel = this.pc.createDataChannel('messages');
    this.channel.onMessage.subscribe((data) => {
      this.events.push(JSON.parse(data.toString()) as Record<string, unknown>);
      this.eventTimes.push(performance.now());
    });
    this.transceiver.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        const pcm = this.decoder.decode(rtp.payload);
        let sum = 0;
        for (const v of pcm) sum += (v / 32768) ** 2;
        this.received.push({ at: performance.now(), sequenceNumber: rtp.header.sequenceNumber, timestamp: rtp.header.timestamp, marker: rtp.header.marker, rms: Math.sqrt(sum / pcm.length) });
      });
    });
    this.ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as Record<string, unknown>;
      this.signals.push(msg);
      if (msg.type === 'answer') void this.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp as string });
      if (msg.type === 'ice-candidate' && msg.candidate) void this.pc.addIceCandidate(msg.candidate as never).catch(() => undefined);
    });
  }

  /** Opens the socket only (no offer). */
  static async open(url: string): Promise<WeriftClient> {
    const client = new WeriftClient(url);
    await new Promise<void>((resolve, reject) => {
      client.ws.once('open', () => resolve());
      client.ws.once('error', reject);
    });
    return client;
  }

  /** Opens the socket, offers, and waits for the peer and the data channel to be up. */
  static async connect(url: string, timeoutMs = 10_000): Promise<WeriftClient> {
    const client = await WeriftClient.open(url);
    await client.offer();
    await client.waitFor(() => client.pc.connectionState === 'connected' && client.channel.readyState === 'open', timeoutMs, 'connected');
    return client;
  }

  async offer(): Promise<void> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    this.send({ type: 'offer', sdp: this.pc.localDescription!.sdp });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Sends `samples` (48 kHz mono) as 20 ms Opus RTP packets, `intervalMs` apart (0 = as fast as possible). */
  async sendAudio(samples: Float32Array, intervalMs = 0): Promise<void> {
    for (let i = 0; i + 960 <= samples.length && !this.closed; i += 960) {
      const payload = this.encoder.encode(samples.subarray(i, i + 960));
      await this.transceiver.sender.sendRtp(new RtpPacket(new RtpHeader({ sequenceNumber: this.seq, timestamp: this.ts, payloadType: 111 }), payload));
      this.seq = (this.seq + 1) & 0xffff;
      this.ts = (this.ts + 960) >>> 0;
      if (intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  async waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (!check()) {
      if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ws.close();
    await this.pc.close();
    this.encoder.close();
    this.decoder.close();
  }
}

/** `seconds` of a tone at 48 kHz with amplitude `amp`. */
export function tone(seconds: number, amp = 0.3, hz = 300): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * 48_000) }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / 48_000));
}
