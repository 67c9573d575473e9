/**
 * The VAD annotation every voice-activity detector writes (`energyVad` now, Silero later) and every consumer
 * (`vadTriggeredBuffer`) reads, so that detectors and consumers combine freely.
 *
 * @internal
 * @module
 */
import { InvalidInputError } from '../../../errors.js';
import type { AudioFrame } from '../../../media/audioFrame.js';

/** Voice-activity result attached to an {@link AudioFrame} as `metadata.vad`. */
export interface VadAnnotation {
  /** The detector's decision for the whole frame. */
  readonly isSpeech: boolean;
  /** Fraction (0..1) of the detector's analysis windows in this frame judged as speech. */
  readonly speechRatio: number;
  /** Mean score of those windows, in the detector's own unit (`energyVad`: RMS of samples in [-1, 1]). */
  readonly avgEnergy: number;
}

/** Returns a new frame with `metadata.vad` set; samples are shared, other metadata keys are kept. */
export function withVad(frame: AudioFrame, vad: VadAnnotation): AudioFrame {
  return {
    samples: frame.samples,
    sampleRate: frame.sampleRate,
    channels: frame.channels,
    pts: frame.pts,
    metadata: { ...frame.metadata, vad },
  };
}

/**
 * Reads `metadata.vad` of a frame.
 * @param node - Node type named in the error. Default: `'readVad'`.
 * @throws {@link InvalidInputError} (field `metadata.vad`) when the annotation is missing or malformed.
 */
export function readVad(frame: AudioFrame, node = 'readVad'): VadAnnotation {
  const vad = frame.metadata?.['vad'] as Partial<VadAnnotation> | undefined;
  if (typeof vad !== 'object' || vad === null) {
    throw new InvalidInputError(node, 'metadata.vad', 'missing: put a VAD (e.g. energyVad()) before this node');
  }
  if (typeof vad.isSpeech !== 'boolean') {
    throw new InvalidInputError(node, 'metadata.vad', `isSpeech must be a boolean, got ${typeof vad.isSpeech}`);
  }
  if (typeof vad.speechRatio !== 'number' || typeof vad.avgEnergy !== 'number') {
    throw new InvalidInputError(node, 'metadata.vad', 'speechRatio and avgEnergy must be numbers');
  }
  return vad as VadAnnotation;
}
