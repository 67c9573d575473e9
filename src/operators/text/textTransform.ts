/**
 * `textTransform`: one string operation (case, reverse, counts, words) applied to every string.
 * @module
 */
import { z } from 'zod';
import { InvalidInputError } from '../../errors.js';
import { coreOperator, type NodeCore } from '../../internal/coreOperator.js';
import { defineNode, type NodeOperator } from '../../node.js';

const NODE = 'text.textTransform';

const OPERATIONS = [
  'uppercase',
  'lowercase',
  'reverse',
  'title_case',
  'word_count',
  'char_count',
  'remove_spaces',
  'first_word',
  'last_word',
] as const;
type Operation = (typeof OPERATIONS)[number];

/** What `operation` emits: a number for the counts, a string otherwise (both when `Op` is a union). */
type TextTransformOutput<Op extends Operation> = Op extends 'word_count' | 'char_count' ? number : string;

const TextTransformParamsSchema = z
  .object({
    operation: z
      .enum(OPERATIONS)
      .describe(`Operation applied to every string: ${OPERATIONS.map((o) => `'${o}'`).join(' | ')}. Required.`),
  })
  .describe('Applies one string operation to every string');

/** Params of {@link textTransform}. */
export type TextTransformParams = z.input<typeof TextTransformParamsSchema>;

// Created on first use and shared: a Segmenter is immutable and costs far more to build than to use.
let graphemes: Intl.Segmenter | undefined;

/** Words are maximal runs of non-whitespace (Unicode `\s`); punctuation stays attached to its word. */
function words(text: string): string[] {
  return text.split(/\s+/u).filter((word) => word.length > 0);
}

const TRANSFORM: Readonly<Record<Operation, (text: string) => string | number>> = {
  uppercase: (text) => text.toUpperCase(),
  lowercase: (text) => text.toLowerCase(),
  // By grapheme cluster, so combining marks, flags and emoji ZWJ sequences survive the reversal intact.
  reverse: (text) => {
    graphemes ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
    return Array.from(graphemes.segment(text), (s) => s.segment).reverse().join('');
  },
  title_case: (text) =>
    text.replace(/\S+/gu, (word) => {
      const [first = '', ...rest] = word;
      return first.toUpperCase() + rest.join('').toLowerCase();
    }),
  word_count: (text) => words(text).length,
  // Code points, not UTF-16 units: '😀' counts 1 (its length is 2); a letter with a combining accent counts 2.
  char_count: (text) => [...text].length,
  remove_spaces: (text) => text.replace(/\s+/gu, ''),
  first_word: (text) => words(text)[0] ?? '',
  last_word: (text) => words(text).at(-1) ?? '',
};

function createTextTransformCore(operation: Operation): NodeCore<string, string | number> {
  const transform = TRANSFORM[operation];
  return {
    push(item: unknown, emit) {
      if (typeof item !== 'string') {
        throw new InvalidInputError(NODE, '', `expected a string, got ${item === null ? 'null' : typeof item}`);
      }
      emit(transform(item));
    },
  };
}

/**
 * Applies one operation to every string. Strings in; strings out, except `word_count` and `char_count`, which emit
 * numbers.
 *
 * - `uppercase` / `lowercase`: locale-independent `toUpperCase()` / `toLowerCase()` (may change length: 'ß' → 'SS').
 * - `reverse`: by grapheme cluster (`Intl.Segmenter`), so 'é' written as e + combining accent, flags and emoji
 *   sequences stay intact.
 * - `title_case`: in every word, first code point upper case, the rest lower case ('hELLO wORLD' → 'Hello World',
 *   'NASA' → 'Nasa'); whitespace is kept as is.
 * - `word_count`: number of words. `char_count`: number of Unicode code points ('😀' is 1).
 * - `remove_spaces`: removes every whitespace character (spaces, tabs, newlines, no-break spaces).
 * - `first_word` / `last_word`: the first / last word, or `''` when the string has no words.
 *
 * A word is a maximal run of non-whitespace characters: punctuation stays attached ('Hi, you!' has the words 'Hi,'
 * and 'you!'), and text written without spaces (e.g. Japanese) is one word.
 *
 * On complete: completes (it holds no state). On error: forwards the error.
 * Errors: `INVALID_INPUT` ({@link InvalidInputError}) when an item is not a string; `INVALID_PARAMS` (field
 * `operation`) from the builder.
 *
 * @example
 * ```ts
 * of('hello world').pipe(textTransform({ operation: 'title_case' })); // 'Hello World'
 * of('hello world').pipe(textTransform({ operation: 'word_count' })); // 2
 * ```
 */
export const textTransform = defineNode(
  NODE,
  TextTransformParamsSchema,
  ({ operation }) => coreOperator(NODE, () => createTextTransformCore(operation)),
  { description: 'Applies one string operation (case, reverse, counts, words) to every string', input: 'text', output: 'any' },
) as <P extends TextTransformParams>(params: P) => NodeOperator<string, TextTransformOutput<P['operation']>>;
