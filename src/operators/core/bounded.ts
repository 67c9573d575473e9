/**
 * `bounded({ size, overflow })`: a bounded queue in front of an async boundary downstream (`mapAsync`, `remote()`,
 * an engine), the local half of the flow-control contract (docs/ARCHITECTURE.md).
 *
 * - Holds at most `size` items; passes them on as fast as the boundary downstream is ready (its demand). With no
 *   boundary downstream (a synchronous consumer) items pass straight through.
 * - Tells a pullable source upstream (`fromWavFile`, `fromAsyncIterable`, `fromReadable`) to read only while it has
 *   room, so a file → bounded → slow consumer pipeline holds at most `size` items, however fast the disk.
 * - When full, applies `overflow` ({@link OverflowPolicy}); drops are counted in `flowStats(label)`.
 *
 * On complete: delivers what it holds as the downstream takes it, then completes. On error: forwards the error at once
 * (queued items are discarded). On unsubscribe: releases the queue and wakes the paused source so it can stop.
 * Error code: `OVERFLOW` (policy `'error'`, or `'block'` when a push source that cannot pause overran `PUSH_SOURCE_LIMITS`).
 *
 * @example
 * ```ts
 * fromWavFile('long.wav').pipe(bounded({ size: 8 }), mapAsync(transcribe)).subscribe(console.log);
 * micFrames$.pipe(bounded({ size: 50, overflow: 'drop-oldest', label: 'mic' }), remote(cfg, vad()));
 * ```
 */
import { Observable } from 'rxjs';
import { z } from 'zod';
import { Boundary } from '../../flow/boundary.js';
import { defineNode, type NodeOperator } from '../../node.js';

const TYPE = 'core.bounded';

const BoundedParamsSchema = z
  .object({
    size: z.number().int().positive().max(1_000_000).default(16).describe('Capacity in items. Default: 16.'),
    overflow: z
      .enum(['block', 'drop-oldest', 'drop-newest', 'error'])
      .default('block')
      .describe("What a full queue does with one more item. Default: 'block' (pause a pullable source; lossless)."),
    label: z.string().min(1).optional().describe("Name under which flowStats() reports this queue's counters. Default: 'core.bounded'."),
  })
  .describe('Bounded queue with a named overflow policy; pauses pullable sources when full.');

/** Params of {@link bounded}. */
export type BoundedParams = z.input<typeof BoundedParamsSchema>;

const boundedNode = defineNode(
  TYPE,
  BoundedParamsSchema,
  // Not a coreOperator: a boundary reads demand on both sides and emits asynchronously, which a pure core cannot.
  ({ size, overflow, label }) =>
    <T>(source: Observable<T>) =>
      new Observable<T>((subscriber) => {
        const boundary = new Boundary<T>({ size, overflow, node: TYPE, label }, (b) => b.queue.length < size);
        let draining = false;
        const drain = (): void => {
          if (draining) return;
          draining = true;
          while (boundary.queue.length > 0 && !subscriber.closed && boundary.downstreamReady(drain)) {
            subscriber.next(boundary.queue.shift() as T);
            boundary.gate.notify();
          }
          draining = false;
          if (boundary.sourceDone && boundary.queue.length === 0 && !subscriber.closed) subscriber.complete();
        };
        boundary.connect(source, subscriber, drain);
        return () => boundary.close();
      }),
  { description: 'Bounded queue with a named overflow policy; pauses pullable sources when full.', input: 'any', output: 'any' },
);

/** Builds a bounded queue node (type `'core.bounded'`), generic in the item type. See the module doc for the contract. */
export const bounded: <T>(params?: BoundedParams) => NodeOperator<T, T> = boundedNode as <T>(params?: BoundedParams) => NodeOperator<T, T>;
