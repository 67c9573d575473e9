/**
 * Sentence splitting shared by `textToSpeech` (synthesize sentence by sentence) and `respond` (emit a streamed reply
 * sentence by sentence). Pure string logic.
 * @internal
 */

/** Longest piece emitted as one sentence; longer runs are cut at a comma or space so synthesis starts early. */
export const MAX_SENTENCE_CHARS = 300;

// A sentence ends at . ! ? … (possibly repeated, possibly followed by closing quotes/brackets) before whitespace,
// or at a line break.
const BOUNDARY = /[.!?…]+["'”’)\]]*(?=\s)|\n+/gu;

function cutLong(sentence: string): string[] {
  const out: string[] = [];
  let rest = sentence;
  while (rest.length > MAX_SENTENCE_CHARS) {
    const window = rest.slice(0, MAX_SENTENCE_CHARS);
    const at = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; '));
    const cut = at > MAX_SENTENCE_CHARS / 3 ? at + 1 : Math.max(window.lastIndexOf(' '), 1);
    out.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest !== '') out.push(rest);
  return out;
}

/**
 * Splits `text` into complete sentences and the unfinished rest (text after the last boundary, which may still
 * grow when more text streams in). Whitespace is normalized; empty pieces are dropped.
 */
export function takeSentences(text: string): { sentences: string[]; rest: string } {
  const sentences: string[] = [];
  let start = 0;
  for (const match of text.matchAll(BOUNDARY)) {
    const end = match.index + match[0].length;
    const piece = text.slice(start, end).replace(/\s+/gu, ' ').trim();
    if (piece !== '') sentences.push(...cutLong(piece));
    start = end;
  }
  return { sentences, rest: text.slice(start).replace(/^\s+/u, '') };
}

/** All sentences of a complete text (its unfinished rest counts as the last sentence). */
export function splitSentences(text: string): string[] {
  const { sentences, rest } = takeSentences(text);
  const last = rest.replace(/\s+/gu, ' ').trim();
  return last === '' ? sentences : [...sentences, ...cutLong(last)];
}
