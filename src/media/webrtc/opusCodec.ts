/**
 * Opus for the WebRTC tracks, on opusscript's WASM libopus (through `opusNative.ts`, which fixes its wrapper's
 * memory handling): one decoder per incoming track, one encoder per outgoing track. Each instance holds WASM memory
 * that the garbage collector cannot see, so every one must be `close()`d; {@link liveOpusCodecs} counts the open ones
 * for leak tests.
 * @module
 */
import { RemoteMediaError } from '../../errors.js';
import { toInt16 } from '../audioFrame.js';
import { NativeOpus } from './opusNative.js';

/** `OPUS_APPLICATION_AUDIO`. */
const APPLICATION_AUDIO = 2049;

/** Sample rates libopus accepts, Hz. */
export type OpusSampleRate = 8000 | 12000 | 16000 | 24000 | 48000;

let live = 0;

/** Opus encoders and decoders created and not yet closed, in this process. */
export function liveOpusCodecs(): number {
  return live;
}

abstract class OpusCodec {
  protected readonly opus: NativeOpus;
  private closed = false;

  constructor(
    readonly sampleRate: OpusSampleRate,
    readonly channels: number,
  ) {
    // AUDIO, not VOIP: VOIP codes silence with SILK plus comfort noise, ~10× the CPU of AUDIO's 3-byte silence
    // frames, and the output track is silent most of the time (measured: ~1 ms vs ~60 µs per 20 ms frame).
    this.opus = new NativeOpus(sampleRate, channels, APPLICATION_AUDIO);
    live++;
  }

  protected check(what: string): void {
    if (this.closed) throw new RemoteMediaError('INTERNAL', `opus ${what} used after close()`, { node: 'webrtc.opus' });
  }

  /** Frees the WASM memory. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    live--;
    this.opus.delete();
  }
}

/** Decodes Opus packets into interleaved Int16 PCM. */
export class OpusDecoder extends OpusCodec {
  /** Decodes one packet (any Opus frame size, mono or stereo: libopus converts to this decoder's channels). */
  decode(packet: Uint8Array): Int16Array {
    this.check('decoder');
    if (packet.length === 0) throw new RemoteMediaError('INVALID_INPUT', 'empty Opus packet', { node: 'webrtc.opus' });
    return this.opus.decode(packet);
  }
}

/** Silent frames after which the encoder's silence output is taken to be steady (measured: steady after 15). */
const STEADY_SILENCE_FRAMES = 25;

/** Encodes fixed-size frames of interleaved float samples into Opus packets. */
export class OpusEncoder extends OpusCodec {
  private silentRun = 0;
  private steadySilence: Buffer | undefined;
  private lastSilentPacket: Buffer | undefined;

  constructor(sampleRate: OpusSampleRate, channels: number, bitrate = 32_000) {
    super(sampleRate, channels);
    this.opus.setBitrate(bitrate);
  }

  /**
   * Encodes one frame (2.5, 5, 10, 20, 40 or 60 ms of audio; WebRTC uses 20 ms). A long run of digital silence ends
   * in a steady state where every packet is the same bytes; from then on the cached packet is returned without
   * running the codec (an idle output track costs almost nothing), until a non-silent frame arrives.
   */
  encode(samples: Float32Array): Buffer {
    this.check('encoder');
    const silent = samples.every((v) => v === 0);
    if (!silent) {
      this.silentRun = 0;
      this.steadySilence = this.lastSilentPacket = undefined;
    } else if (this.steadySilence) {
      return Buffer.from(this.steadySilence);
    }
    const pcm = toInt16(samples);
    const packet = this.opus.encode(pcm, pcm.length / this.channels);
    if (silent && ++this.silentRun >= STEADY_SILENCE_FRAMES) {
      // Steady only once two consecutive silent packets agree byte for byte.
      if (this.lastSilentPacket?.equals(packet)) this.steadySilence = Buffer.from(packet);
      this.lastSilentPacket = Buffer.from(packet);
    }
    return packet;
  }

  /** True while silent frames are served from the cached steady-silence packet. */
  get coastingOnSilence(): boolean {
    return this.steadySilence !== undefined;
  }
}
