/**
 * `passThrough`: the identity node.
 * @module
 */
import { identity } from 'rxjs';
import { z } from 'zod';
import { defineNode, type NodeOperator } from '../../node.js';

const PassThroughParamsSchema = z.object({}).describe('Emits every item unchanged; takes no params');

/**
 * Emits every item unchanged. On complete it completes, on error it forwards the error; it holds no state and
 * never throws. Useful as a placeholder in a chain and as the baseline node of the benchmarks.
 *
 * Params: none (its spec is `{ type: 'core.passThrough', params: {} }`).
 *
 * @example
 * ```ts
 * source$.pipe(passThrough()); // same items, same timing
 * ```
 */
export const passThrough = defineNode(
  'core.passThrough',
  PassThroughParamsSchema,
  // Not coreOperator: with no state, no validation and nothing that can throw, its per-item subscriber and try/catch
  // would only add cost. `identity` returns the source itself, so subscription (and with it the demand context),
  // items, errors and unsubscription pass straight through, and the benchmark measures the framework, not this node.
  () => identity,
  { description: 'Emits every item unchanged', input: 'any', output: 'any' },
) as <T>() => NodeOperator<T, T>;
