/**
 * `channelMix`: changes the channel count of audio frames (down-mix by averaging, up-mix by copying).
 * @module
 */
import { z } from 'zod';
import { coreOperator } from '../../internal/coreOperator.js';
import { checkAudioFrame, type AudioFrame } from '../../media/audioFrame.js';
import { defineNode } from '../../node.js';
import { MAX_MIX_CHANNELS, mixChannels } from './internal/channelMixInternals.js';

const NODE = 'audio.channelMix';

const ChannelMixParamsSchema = z
  .object({
    channels: z.number().int().min(1).max(MAX_MIX_CHANNELS).describe(`Output channel count (integer, 1 to ${MAX_MIX_CHANNELS}). Required.`),
  })
  .describe('Changes the channel count: down-mix by averaging, up-mix by copying');

/** Params of {@link channelMix}. */
export type ChannelMixParams = z.input<typeof ChannelMixParamsSchema>;

/**
 * Maps every frame from its N channels to `channels` (M), one output frame per input frame, keeping `sampleRate`,
 * `pts` and `metadata`. Stateless, so frames of different channel counts may be mixed in one stream.
 * - M = N: the frame passes through unchanged (same object).
 * - M < N (down-mix): input channel i feeds output i mod M; each output is the mean of its inputs. N→1 averages all
 *   channels; stereo→mono is (L + R) / 2; 4→2 is L = (c0 + c2) / 2, R = (c1 + c3) / 2. Means stay in [-1, 1].
 * - M > N (up-mix): output j copies input j mod N. Mono→stereo duplicates; stereo→4 is L R L R.
 *
 * On complete: completes (holds nothing). On error: forwards the error.
 *
 * Errors: `INVALID_PARAMS` (field `channels`); `INVALID_INPUT` when an item is not an AudioFrame.
 *
 * @example
 * ```ts
 * stereo$.pipe(channelMix({ channels: 1 })); // each sample = (L + R) / 2
 * ```
 */
export const channelMix = defineNode(
  NODE,
  ChannelMixParamsSchema,
  ({ channels }) =>
    coreOperator<AudioFrame, AudioFrame>(NODE, () => ({
      push(item, emit) {
        emit(mixChannels(checkAudioFrame(item, NODE), channels));
      },
    })),
  { description: 'Changes the channel count: down-mix by averaging, up-mix by copying', input: 'audio', output: 'audio' },
);
