/**
 * MAX_PAYLOAD_ENTRIES (review finding: one 3.8 MB map of 650 000 distinct keys, one container, stalled the event loop
 * ~1.5 s) and maps beyond 65 535 keys (msgpackr's fast 16-bit map header threw its own text at the executor).
 */
import { describe, expect, it } from 'vitest';
import { checkPayload, decodePayload, encodePayload, MAX_PAYLOAD_ENTRIES } from '../../src/remote/codec.js';

const refusal = `more than ${MAX_PAYLOAD_ENTRIES} array elements and map entries (MAX_PAYLOAD_ENTRIES)`;
const map = (n: number): Record<string, number> => Object.fromEntries(Array.from({ length: n }, (_, i) => [i.toString(36), 0]));

describe('MAX_PAYLOAD_ENTRIES', () => {
  it(`a map of ${MAX_PAYLOAD_ENTRIES} entries decodes, one more is refused before decoding`, () => {
    expect(Object.keys(decodePayload(encodePayload(map(MAX_PAYLOAD_ENTRIES))) as object)).toHaveLength(MAX_PAYLOAD_ENTRIES);
    expect(() => checkPayload(encodePayload(map(MAX_PAYLOAD_ENTRIES + 1)))).toThrow(refusal);
  });

  it('counts array elements and map entries over all containers, Sets and frame metadata; a typed array counts as one', () => {
    const half = MAX_PAYLOAD_ENTRIES / 2;
    // [map(half - 1), [half - 1 zeros]]: 2 + (half - 1) + (half - 1) = N entries.
    const ok = [map(half - 1), new Array<number>(half - 1).fill(0)];
    expect(decodePayload(encodePayload(ok))).toEqual(ok);
    expect(() => decodePayload(encodePayload([map(half), new Array<number>(half - 1).fill(0)]))).toThrow(refusal);
    expect(() => decodePayload(encodePayload(new Set(Array.from({ length: MAX_PAYLOAD_ENTRIES + 1 }, (_, i) => i))))).toThrow(refusal);
    const frame = { samples: new Float32Array(4), sampleRate: 16000, channels: 1, pts: 0, metadata: map(MAX_PAYLOAD_ENTRIES + 1) };
    expect(() => decodePayload(encodePayload(frame))).toThrow(refusal);
    expect(decodePayload(encodePayload({ ...frame, metadata: map(MAX_PAYLOAD_ENTRIES) }))).toMatchObject({ sampleRate: 16000 });
    // One entry each however long (they count as containers instead).
    const typed = Array.from({ length: 100 }, () => new Float32Array(MAX_PAYLOAD_ENTRIES));
    expect(decodePayload(encodePayload(typed))).toHaveLength(100);
  });

  it('the 650 000-key map of the review is refused by the walk, without decoding (under 50 ms)', () => {
    const n = 650_000;
    const parts: Buffer[] = [Buffer.from([0xdf, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff])];
    for (let i = 0; i < n; i++) {
      const k = i.toString(36);
      parts.push(Buffer.from([0xa0 + k.length]), Buffer.from(k), Buffer.from([0]));
    }
    const bytes = Buffer.concat(parts);
    const start = performance.now();
    expect(() => decodePayload(bytes)).toThrow(refusal);
    expect(performance.now() - start).toBeLessThan(50);
  });

  it('maps of 65 536 keys and more encode (variableMapSize) and small maps use the compact fixmap header', () => {
    expect(() => encodePayload(map(70_000))).not.toThrow();
    expect(encodePayload({ x: 1 })[0]).toBe(0x81);
    expect(decodePayload(encodePayload({ a: { b: [1, 2] }, c: 'x' }))).toEqual({ a: { b: [1, 2] }, c: 'x' });
  });
});
