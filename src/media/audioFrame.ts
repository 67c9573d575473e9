/**
 * `AudioFrame`: the audio item every audio node consumes and emits. Plain object literals are accepted everywhere;
 * {@link audioFrame} only adds validation and a default `pts`.
 *
 * Units: `samples` interleaved 32-bit floats in [-1, 1]; `sampleRate` in Hz; `pts` (presentation timestamp) in
 * **microseconds** from the start of the stream — the one time unit of the whole project.
 *
 * @module
 */
import { InvalidInputError } from '../errors.js';

/** A block of interleaved PCM audio. */
export interface AudioFrame {
  /** Interleaved samples in [-1, 1]; length = frames per channel × channels. */
  readonly samples: Float32Array;
  /** Samples per second per channel, in Hz. */
  readonly sampleRate: number;
  /** Channel count (1 = mono, 2 = stereo, ...). */
  readonly channels: number;
  /** Presentation timestamp of the first sample, in microseconds. */
  readonly pts: number;
  /** Free-form annotations added by nodes, e.g. `vad` by `energyVad`. */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** Input of {@link audioFrame}: an AudioFrame whose `pts` may be omitted. */
export interface AudioFrameInit {
  readonly samples: Float32Array;
  readonly sampleRate: number;
  readonly channels: number;
  /** Microseconds. Default: 0. */
  readonly pts?: number;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** Microseconds per second, the factor between `pts` and seconds. */
export const MICROS_PER_SECOND = 1_000_000;

/**
 * Checks that `value` is a well-formed AudioFrame and returns it typed; throws {@link InvalidInputError} naming the
 * node and the bad field otherwise. Cheap enough for every item (a few property reads).
 */
export function checkAudioFrame(value: unknown, node = 'audioFrame'): AudioFrame {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidInputError(node, '', `expected an AudioFrame { samples, sampleRate, channels, pts }, got ${describe(value)}`);
  }
  const f = value as Partial<AudioFrame>;
  if (!(f.samples instanceof Float32Array)) {
    throw new InvalidInputError(node, 'samples', `must be a Float32Array, got ${describe(f.samples)} (convert Int16 PCM with fromInt16())`);
  }
  if (typeof f.sampleRate !== 'number' || !Number.isInteger(f.sampleRate) || f.sampleRate <= 0) {
    throw new InvalidInputError(node, 'sampleRate', `must be a positive integer in Hz, got ${describe(f.sampleRate)}`);
  }
  if (typeof f.channels !== 'number' || !Number.isInteger(f.channels) || f.channels <= 0) {
    throw new InvalidInputError(node, 'channels', `must be a positive integer, got ${describe(f.channels)}`);
  }
  if (f.samples.length % f.channels !== 0) {
    throw new InvalidInputError(node, 'samples', `length ${f.samples.length} is not a multiple of channels (${f.channels})`);
  }
  if (f.pts !== undefined && (typeof f.pts !== 'number' || !Number.isFinite(f.pts))) {
    throw new InvalidInputError(node, 'pts', `must be a finite number of microseconds, got ${describe(f.pts)}`);
  }
  if (f.pts === undefined) return { ...(f as AudioFrame), pts: 0 };
  return f as AudioFrame;
}

/** Builds a validated AudioFrame; `pts` defaults to 0 µs. */
export function audioFrame(init: AudioFrameInit): AudioFrame {
  const frame = checkAudioFrame(init, 'audioFrame');
  return init.metadata === undefined
    ? { samples: frame.samples, sampleRate: frame.sampleRate, channels: frame.channels, pts: frame.pts }
    : { samples: frame.samples, sampleRate: frame.sampleRate, channels: frame.channels, pts: frame.pts, metadata: init.metadata };
}

/** Frames per channel in `frame` (samples.length / channels). */
export function frameCount(frame: AudioFrame): number {
  return frame.samples.length / frame.channels;
}

/** Duration of `frame` in microseconds. */
export function durationMicros(frame: AudioFrame): number {
  return (frameCount(frame) * MICROS_PER_SECOND) / frame.sampleRate;
}

/** Converts Int16 PCM to floats in [-1, 1) (divides by 32768). */
export function fromInt16(pcm: Int16Array): Float32Array {
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = pcm[i]! / 32768;
  return out;
}

/**
 * Converts floats to Int16 PCM: ×32768, rounded to nearest, clipped to [-32768, 32767]; the exact inverse of
 * {@link fromInt16} for every Int16 value.
 */
export function toInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round(samples[i]! * 32768);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** The arrays of `parts` end to end, in one new array. */
export function concatFloat32(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (typeof value === 'object') return 'an object';
  return typeof value === 'string' ? `'${value.slice(0, 40)}'` : String(value);
}
