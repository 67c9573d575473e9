/**
 * Params every ML node shares: its input queue (the flow-control boundary in front of the model).
 * @internal
 */
import { z } from 'zod';

/** Default number of items that may wait in front of a model. */
export const DEFAULT_QUEUE_SIZE = 16;

/** `queueSize` and `overflow` fields, spread into each ML node's params schema. */
export const queueParams = {
  queueSize: z.number().int().positive().max(100_000).default(DEFAULT_QUEUE_SIZE)
    .describe(`Items that may wait while the model works (a push source fills it; a pullable source is paused instead). Default: ${DEFAULT_QUEUE_SIZE} items.`),
  overflow: z.enum(['block', 'drop-oldest', 'drop-newest', 'error']).default('block')
    .describe("What a full queue does with one more item: 'block' pauses a pullable source (lossless; a push source is queued up to PUSH_SOURCE_LIMITS, then fails with OVERFLOW), 'drop-oldest'/'drop-newest' drop and count (live audio), 'error' fails. Default: 'block'."),
};
