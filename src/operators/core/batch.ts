/**
 * `batch`: groups consecutive items into arrays of a fixed size.
 * @module
 */
import { z } from 'zod';
import { coreOperator, type NodeCore } from '../../internal/coreOperator.js';
import { defineNode, type NodeOperator } from '../../node.js';

const NODE = 'core.batch';

const BatchParamsSchema = z
  .object({
    size: z.number().int().positive().describe('Items per emitted array (positive integer). Required.'),
  })
  .describe('Collects items into arrays of `size` and emits each array when full');

/** Params of {@link batch}. */
export type BatchParams = z.input<typeof BatchParamsSchema>;

function createBatchCore<T>(size: number): NodeCore<T, T[]> {
  let items: T[] = [];
  return {
    push(item, emit) {
      items.push(item);
      if (items.length < size) return;
      // Swap before emitting: downstream owns the emitted array, and a re-entrant push starts a fresh batch.
      const full = items;
      items = [];
      emit(full);
    },
    flush(emit) {
      if (items.length === 0) return;
      const rest = items;
      items = [];
      emit(rest);
    },
    close() {
      items = [];
    },
  };
}

/**
 * Collects `size` consecutive items into an array and emits it; the arrays are fresh (never reused), and items are
 * not copied. Accepts items of any kind.
 *
 * On complete: emits the partial batch (1 to `size - 1` items), if any, then completes; it never emits an empty
 * array. On error: forwards the error and drops the partial batch.
 *
 * Errors: `INVALID_PARAMS` (field `size`) when `size` is not a positive integer.
 *
 * @example
 * ```ts
 * from([1, 2, 3, 4, 5]).pipe(batch({ size: 2 })); // [1, 2], [3, 4], [5]
 * ```
 */
export const batch = defineNode(
  NODE,
  BatchParamsSchema,
  ({ size }) => coreOperator(NODE, () => createBatchCore<unknown>(size)),
  { description: 'Collects items into arrays of `size`; emits the partial batch on complete', input: 'any', output: 'any' },
) as <T>(params: BatchParams) => NodeOperator<T, T[]>;
