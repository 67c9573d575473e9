/**
 * `resample`: converts audio to another sample rate with libsamplerate (WASM).
 * @module
 */
import { z } from 'zod';
import { coreOperator } from '../../internal/coreOperator.js';
import type { AudioFrame } from '../../media/audioFrame.js';
import { defineNode } from '../../node.js';
import { createResampleCore, DEFAULT_RESAMPLE_QUALITY, MAX_SAMPLE_RATE, RESAMPLE_QUALITIES } from './internal/resampleInternals.js';

const NODE = 'audio.resample';

const ResampleParamsSchema = z
  .object({
    rate: z.number().int().min(1).max(MAX_SAMPLE_RATE).describe(`Output sample rate in Hz (integer, 1 to ${MAX_SAMPLE_RATE}). Required.`),
    quality: z
      .enum(RESAMPLE_QUALITIES)
      .default(DEFAULT_RESAMPLE_QUALITY)
      .describe(
        "libsamplerate converter: 'best', 'medium' or 'fastest' sinc (97 dB SNR; 97/90/80 % bandwidth; CPU ~50/13/5 ms per " +
          `second of mono audio), or 'zero-order-hold' / 'linear' (cheap, poor quality). Default: '${DEFAULT_RESAMPLE_QUALITY}'.`,
      ),
  })
  .describe('Converts audio frames to another sample rate, streaming, with libsamplerate');

/** Params of {@link resample}. */
export type ResampleParams = z.input<typeof ResampleParamsSchema>;

/**
 * Converts each audio frame to `rate` Hz with a streaming libsamplerate converter (one per subscription and input
 * format). Channel count is kept. Frames already at `rate` pass through unchanged (same object).
 *
 * Timing: output pts (µs) = pts of the first frame of a format run + output frames emitted in that run / `rate`, so
 * gaps in input pts are not reproduced. Output lags input by the converter's latency (a few ms for the sinc
 * converters): a frame's output may be shorter than `frames × rate / inRate`, or empty (then nothing is emitted).
 * Input `metadata` is copied onto the output emitted while consuming that frame.
 *
 * A change of input `sampleRate` or `channels` ends the current run: its held tail is emitted first, then a new
 * converter starts. On complete: emits the tail, sized so that each run's output totals
 * round(inputFrames × rate / inRate) frames (at most one more for 'zero-order-hold' / 'linear'), then completes.
 * On error or unsubscribe: the tail is dropped. The converter is freed on complete, error and unsubscribe.
 *
 * The first subscription in a process instantiates a libsamplerate WASM module (~20 ms, ~2 MB RSS); freed modules
 * are pooled and reused.
 *
 * Errors: `INVALID_PARAMS` (field `rate` or `quality`); `INVALID_INPUT` when an item is not an AudioFrame, or its
 * `sampleRate` (> 192000 Hz, or a ratio beyond 256) or `channels` (> 128) are beyond libsamplerate's limits.
 *
 * @example
 * ```ts
 * mic$.pipe(resample({ rate: 16000 })); // 48 kHz frames in, 16 kHz frames out
 * ```
 */
export const resample = defineNode(
  NODE,
  ResampleParamsSchema,
  ({ rate, quality }) => coreOperator<AudioFrame, AudioFrame>(NODE, () => createResampleCore(NODE, rate, quality)),
  { description: 'Converts audio to another sample rate (libsamplerate); flushes the converter tail on complete', input: 'audio', output: 'audio' },
);
