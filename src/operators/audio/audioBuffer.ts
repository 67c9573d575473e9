/**
 * `audioBuffer`: re-chunks audio into blocks of a fixed number of frames.
 * @module
 */
import { z } from 'zod';
import { InvalidInputError } from '../../errors.js';
import { coreOperator, type Emit, type NodeCore } from '../../internal/coreOperator.js';
import { checkAudioFrame, frameCount, MICROS_PER_SECOND, type AudioFrame } from '../../media/audioFrame.js';
import { defineNode } from '../../node.js';

const NODE = 'audio.audioBuffer';

/** Default block length: 1024 frames per channel (21.3 ms at 48 kHz, 64 ms at 16 kHz). */
const DEFAULT_BLOCK_FRAMES = 1024;
/** Largest block: 2^22 frames per channel (~87 s at 48 kHz); bounds the block preallocated per subscription. */
const MAX_BLOCK_FRAMES = 4_194_304;
/**
 * Largest block in floats over all channels (64 MiB): `samples` × `channels` is the preallocation, and a crafted
 * 256-channel frame against the largest `samples` would otherwise ask for 4 GiB from one small item.
 */
const MAX_BLOCK_FLOATS = 16_777_216;

const AudioBufferParamsSchema = z
  .object({
    samples: z
      .number()
      .int()
      .min(1)
      .max(MAX_BLOCK_FRAMES)
      .default(DEFAULT_BLOCK_FRAMES)
      .describe(`Frames per channel in each emitted block (integer, 1 to ${MAX_BLOCK_FRAMES}). Default: ${DEFAULT_BLOCK_FRAMES}.`),
  })
  .describe('Re-chunks audio into blocks of a fixed number of frames per channel');

/** Params of {@link audioBuffer}. */
export type AudioBufferParams = z.input<typeof AudioBufferParamsSchema>;

function createAudioBufferCore(blockFrames: number): NodeCore<AudioFrame, AudioFrame> {
  let sampleRate = 0;
  let channels = 0;
  // Preallocated for the current format; handed downstream when full, so the next block gets a fresh one.
  let block: Float32Array | null = null;
  let filled = 0;
  let blockPts = 0;

  const take = (length: number): Float32Array => {
    const full = block!;
    block = null;
    filled = 0;
    return length === full.length ? full : full.slice(0, length);
  };
  const emitPending = (emit: Emit<AudioFrame>): void => {
    if (filled === 0) return;
    const pts = blockPts;
    emit({ samples: take(filled * channels), sampleRate, channels, pts });
  };

  return {
    push(item, emit) {
      const frame = checkAudioFrame(item, NODE);
      if (frame.sampleRate !== sampleRate || frame.channels !== channels) {
        emitPending(emit);
        block = null;
        sampleRate = frame.sampleRate;
        channels = frame.channels;
      }
      const frames = frameCount(frame);
      let offset = 0;
      while (offset < frames) {
        if (filled === 0) {
          if (block === null && blockFrames * channels > MAX_BLOCK_FLOATS) {
            throw new InvalidInputError(NODE, 'channels', `${channels} channels × ${blockFrames} samples exceed the largest block (${MAX_BLOCK_FLOATS} floats); lower samples or mix down first`);
          }
          block ??= new Float32Array(blockFrames * channels);
          blockPts = frame.pts + (offset * MICROS_PER_SECOND) / sampleRate;
        }
        const n = Math.min(frames - offset, blockFrames - filled);
        block!.set(frame.samples.subarray(offset * channels, (offset + n) * channels), filled * channels);
        filled += n;
        offset += n;
        if (filled === blockFrames) emit({ samples: take(blockFrames * channels), sampleRate, channels, pts: blockPts });
      }
    },
    flush(emit) {
      emitPending(emit);
    },
    close() {
      block = null;
      filled = 0;
    },
  };
}

/**
 * Re-chunks audio into blocks of exactly `samples` frames per channel (interleaved, so `samples × channels` floats).
 * Samples are copied once into a block preallocated per subscription; a full block is emitted as-is (never reused).
 *
 * Timing: a block's pts is the pts of the input frame holding its first sample + that sample's offset in the frame
 * (offset / sampleRate, in µs). Input `metadata` is not carried (a block spans several inputs).
 *
 * A change of `sampleRate` or `channels` emits the pending partial block first, then starts a new one. On complete:
 * emits the remainder (fewer than `samples` frames), if any, then completes. On error: forwards the error and drops
 * the remainder.
 *
 * Errors: `INVALID_PARAMS` (field `samples`); `INVALID_INPUT` when an item is not an AudioFrame.
 *
 * @example
 * ```ts
 * mic$.pipe(audioBuffer({ samples: 1024 })); // 512 + 512 in → one 1024-frame block
 * ```
 */
export const audioBuffer = defineNode(
  NODE,
  AudioBufferParamsSchema,
  ({ samples }) => coreOperator<AudioFrame, AudioFrame>(NODE, () => createAudioBufferCore(samples)),
  { description: 'Re-chunks audio into fixed-size blocks; emits the remainder on complete', input: 'audio', output: 'audio' },
);
