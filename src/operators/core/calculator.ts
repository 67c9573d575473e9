/**
 * `calculator`: applies one arithmetic operation with a fixed operand to every number.
 * @module
 */
import { z } from 'zod';
import { InvalidInputError, RemoteMediaError } from '../../errors.js';
import { coreOperator, type NodeCore } from '../../internal/coreOperator.js';
import { defineNode } from '../../node.js';

const NODE = 'core.calculator';

const OPERATIONS = ['add', 'subtract', 'multiply', 'divide', 'power', 'modulo'] as const;
type Operation = (typeof OPERATIONS)[number];

const CalculatorParamsSchema = z
  .object({
    operation: z
      .enum(OPERATIONS)
      .describe("Operation applied as `item <op> operand`: 'add' | 'subtract' | 'multiply' | 'divide' | 'power' | 'modulo'. Required."),
    operand: z.number().describe('Right-hand operand, a finite number (NaN and ±Infinity are rejected). Required.'),
  })
  .describe('Applies `item <operation> operand` to every number');

/** Params of {@link calculator}. */
export type CalculatorParams = z.input<typeof CalculatorParamsSchema>;

const APPLY: Readonly<Record<Operation, (x: number, operand: number) => number>> = {
  add: (x, y) => x + y,
  subtract: (x, y) => x - y,
  multiply: (x, y) => x * y,
  divide: (x, y) => x / y,
  power: (x, y) => x ** y,
  // JavaScript remainder: the result takes the sign of the item, as `%` does (-7 % 3 === -1).
  modulo: (x, y) => x % y,
};

function divisionByZero(item: number, operation: Operation, operand: number): RemoteMediaError {
  return new RemoteMediaError('DIVISION_BY_ZERO', `${NODE}: ${operation} ${item} by ${operand} is a division by zero`, { node: NODE });
}

/** Items are typed `number`, but a chain rebuilt from specs (or plain JS) can hand over anything. */
function checkNumber(item: unknown): number {
  if (typeof item === 'number' && Number.isFinite(item)) return item;
  const got = typeof item === 'number' ? String(item) : item === null ? 'null' : typeof item;
  throw new InvalidInputError(NODE, '', `expected a finite number, got ${got}`);
}

function createCalculatorCore({ operation, operand }: z.output<typeof CalculatorParamsSchema>): NodeCore<number, number> {
  const apply = APPLY[operation];
  const dividesByZero = (operation === 'divide' || operation === 'modulo') && operand === 0;
  return {
    push(value, emit) {
      const item = checkNumber(value);
      // 0 ** negative is 1 / 0 ** |operand|: the same division by zero, reported the same way.
      if (dividesByZero || (operation === 'power' && item === 0 && operand < 0)) throw divisionByZero(item, operation, operand);
      const result = apply(item, operand);
      if (!Number.isFinite(result)) {
        throw new RemoteMediaError('NODE_FAILED', `${NODE}: ${operation}(${item}, ${operand}) is ${result}, not a finite number`, { node: NODE });
      }
      emit(result);
    },
  };
}

/**
 * Applies `item <operation> operand` to every number: `add`, `subtract`, `multiply`, `divide`, `power`
 * (`item ** operand`), `modulo` (JavaScript `%`: the result has the sign of the item). Numbers in, numbers out; it
 * never emits NaN or ±Infinity.
 *
 * On complete: completes (it holds no state). On error: forwards the error. A failing item errors the stream.
 *
 * Errors (checked per item, so an empty stream completes even with a zero divisor):
 * - `DIVISION_BY_ZERO`: `divide` or `modulo` by 0, or `power` of 0 with a negative operand.
 * - `INVALID_INPUT` ({@link InvalidInputError}): the item is not a finite number (a string, NaN, ±Infinity, ...).
 * - `NODE_FAILED`: the result is not a finite number: overflow (`power` 10 by 400, `multiply` 1e308 by 10) or not
 *   real (`power` -8 by 0.5).
 * - `INVALID_PARAMS` (field `operation` or `operand`) from the builder.
 *
 * @example
 * ```ts
 * from([1, 2, 3]).pipe(calculator({ operation: 'multiply', operand: 10 })); // 10, 20, 30
 * ```
 */
export const calculator = defineNode(
  NODE,
  CalculatorParamsSchema,
  (params) => coreOperator(NODE, () => createCalculatorCore(params)),
  { description: 'Applies `item <operation> operand` to every number', input: 'number', output: 'number' },
);
