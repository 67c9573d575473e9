import { describe, expect, expectTypeOf, it } from 'vitest';
import fc from 'fast-check';
import { from, type Observable, of } from 'rxjs';
import { InvalidInputError, InvalidParamsError, RemoteMediaError } from '../../../src/errors.js';
import { fromSpec, type NodeSpec } from '../../../src/node.js';
import { textTransform, type TextTransformParams } from '../../../src/operators/text/textTransform.js';
import { marbleTest, type RunHelpers } from '../../../src/testing/index.js';

const run = (body: (helpers: RunHelpers) => void): void => marbleTest(body, (a, e) => expect(a).toEqual(e));

type Operation = TextTransformParams['operation'];

/** Runs one operation synchronously over `items`; rethrows the node's error. */
function apply(operation: Operation, items: unknown[]): unknown[] {
  const out: unknown[] = [];
  let error: unknown;
  (from(items) as Observable<string>).pipe(textTransform({ operation })).subscribe({ next: (x) => out.push(x), error: (e: unknown) => (error = e) });
  if (error !== undefined) throw error;
  return out;
}

const one = (operation: Operation, text: string): unknown => apply(operation, [text])[0];

describe('textTransform node', () => {
  it('transforms every string (marbles)', () => {
    run(({ cold, expectObservable }) => {
      const source = cold('-a--b-|', { a: 'hello world', b: 'Ab' });
      expectObservable(source.pipe(textTransform({ operation: 'uppercase' }))).toBe('-x--y-|', { x: 'HELLO WORLD', y: 'AB' });
      expectObservable(source.pipe(textTransform({ operation: 'word_count' }))).toBe('-x--y-|', { x: 2, y: 1 });
    });
  });

  it('completes with the source (nothing held)', () => {
    run(({ cold, expectObservable }) => {
      expectObservable(cold('(ab|)', { a: 'x y', b: '' }).pipe(textTransform({ operation: 'first_word' }))).toBe('(xy|)', { x: 'x', y: '' });
    });
  });

  it('forwards the source error unchanged', () => {
    run(({ cold, expectObservable }) => {
      const error = new RemoteMediaError('IO', 'socket closed');
      const source = cold('-a-#', { a: 'abc' }, error);
      expectObservable(source.pipe(textTransform({ operation: 'reverse' }))).toBe('-x-#', { x: 'cba' }, error);
    });
  });

  it('unsubscribes from the source when unsubscribed early', () => {
    run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: 'a', b: 'b', c: 'c' });
      expectObservable(source.pipe(textTransform({ operation: 'uppercase' })), '----!').toBe('-x-y', { x: 'A', y: 'B' });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('errors with InvalidInputError on a non-string item and unsubscribes from the source', () => {
    run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-|', { a: 'ok', b: 42, c: 'never' });
      const error = new InvalidInputError('text.textTransform', '', 'expected a string, got number');
      expectObservable((source as Observable<string>).pipe(textTransform({ operation: 'lowercase' }))).toBe('-x-#', { x: 'ok' }, error);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
    for (const [item, got] of [[null, 'null'], [undefined, 'undefined'], [['a'], 'object'], [new Uint8Array(1), 'object']] as const) {
      expect(() => apply('uppercase', [item])).toThrow(`text.textTransform: invalid input: expected a string, got ${got}`);
      expect(() => apply('char_count', [item])).toThrow(InvalidInputError);
    }
  });

  it.each<[Operation, string, string | number]>([
    ['uppercase', 'Straße café', 'STRASSE CAFÉ'],
    ['lowercase', 'ÀÉÎ Hello', 'àéî hello'],
    ['reverse', 'abc def', 'fed cba'],
    ['title_case', 'hELLO  wORLD\tagain', 'Hello  World\tAgain'],
    ['title_case', 'NASA rocks', 'Nasa Rocks'],
    ['title_case', "it's über-cool", "It's Über-cool"],
    ['word_count', '  one two\tthree\nfour  ', 4],
    ['word_count', 'Hi, you!', 2],
    ['char_count', 'héllo', 5],
    ['remove_spaces', ' a b\tc\nd\u00a0e ', 'abcde'],
    ['first_word', '  first second last ', 'first'],
    ['last_word', '  first second last ', 'last'],
    ['first_word', 'Hi, you!', 'Hi,'],
  ])('%s(%j) is %j', (operation, text, expected) => {
    expect(one(operation, text)).toEqual(expected);
  });

  it.each<[Operation, string | number]>([
    ['uppercase', ''],
    ['lowercase', ''],
    ['reverse', ''],
    ['title_case', ''],
    ['word_count', 0],
    ['char_count', 0],
    ['remove_spaces', ''],
    ['first_word', ''],
    ['last_word', ''],
  ])('%s of the empty string is %j', (operation, expected) => {
    expect(one(operation, '')).toBe(expected);
  });

  it('word operations on whitespace only: no words', () => {
    expect(one('word_count', ' \t\n ')).toBe(0);
    expect(one('first_word', ' \t\n ')).toBe('');
    expect(one('last_word', ' \t\n ')).toBe('');
    expect(one('title_case', ' \t ')).toBe(' \t ');
  });

  it('reverses by grapheme cluster, keeping combining marks and emoji sequences intact', () => {
    const eAcute = 'e\u0301';
    const family = '👨‍👩‍👧';
    const flag = '🇫🇷';
    expect(one('reverse', `a${eAcute}b`)).toBe(`b${eAcute}a`);
    expect(one('reverse', `x${family}y${flag}`)).toBe(`${flag}y${family}x`);
    expect(one('reverse', '😀!')).toBe('!😀');
  });

  it('counts characters as code points', () => {
    expect(one('char_count', '😀')).toBe(1);
    expect(one('char_count', 'e\u0301')).toBe(2);
    expect(one('char_count', '日本語')).toBe(3);
  });

  it('title-cases a word starting with an astral letter without splitting it', () => {
    expect(one('title_case', '𐐨𐐨 x')).toBe('𐐀𐐨 X');
  });

  it('reverse twice is the identity and keeps the code-point count (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const [reversed] = apply('reverse', [text]) as [string];
        expect(apply('reverse', [reversed])).toEqual([text]);
        expect(apply('char_count', [reversed])).toEqual(apply('char_count', [text]));
      }),
    );
  });

  it('word counts agree with first/last word and remove_spaces (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'bc', ' ', '\t', 'é', '\n', '😀')).map((parts) => parts.join('')), (text) => {
        const [count] = apply('word_count', [text]) as [number];
        const [first] = apply('first_word', [text]) as [string];
        const [last] = apply('last_word', [text]) as [string];
        expect(count === 0).toBe(first === '' && last === '');
        expect(apply('word_count', [apply('remove_spaces', [text])[0]])).toEqual([count === 0 ? 0 : 1]);
      }),
    );
  });

  it('rejects bad params, naming the field', () => {
    const build = textTransform as unknown as (params?: unknown) => unknown;
    for (const params of [{ operation: 'shout' }, { operation: 'UPPERCASE' }, {}, undefined, { operation: 1 }]) {
      try {
        build(params);
        expect.unreachable('should throw');
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidParamsError);
        expect((e as InvalidParamsError).field).toBe('operation');
      }
    }
  });

  it('carries its spec and rebuilds from it', () => {
    const node = textTransform({ operation: 'title_case' });
    expect(node.spec).toEqual({ type: 'text.textTransform', params: { operation: 'title_case' } });
    run(({ cold, expectObservable }) => {
      const rebuilt = fromSpec<string, string>(JSON.parse(JSON.stringify(node.spec)) as NodeSpec);
      expectObservable(cold('-a|', { a: 'ab cd' }).pipe(rebuilt)).toBe('-x|', { x: 'Ab Cd' });
    });
  });

  it('types counts as numbers and other operations as strings', () => {
    expectTypeOf(of('a').pipe(textTransform({ operation: 'word_count' }))).toEqualTypeOf<Observable<number>>();
    expectTypeOf(of('a').pipe(textTransform({ operation: 'reverse' }))).toEqualTypeOf<Observable<string>>();
    const operation = 'char_count' as Operation;
    expectTypeOf(of('a').pipe(textTransform({ operation }))).toEqualTypeOf<Observable<string | number>>();
  });
});
