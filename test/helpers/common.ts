/** Small assertions shared by the operator and media specs. */
import { expect } from 'vitest';
import { InvalidParamsError } from '../../src/errors.js';
import { concatFloat32, type AudioFrame } from '../../src/media/audioFrame.js';

/** vitest deep equality in the shape `marbleTest` expects. */
export const assertEqual = (actual: unknown, expected: unknown): void => {
  expect(actual).toEqual(expected);
};

/** Runs `build`, asserts it throws an InvalidParamsError, and returns the field it names. */
export function invalidParamsField(build: () => unknown): string {
  try {
    build();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidParamsError);
    return (e as InvalidParamsError).field;
  }
  throw new Error('expected an InvalidParamsError, nothing was thrown');
}

/** All samples of `frames`, concatenated in order. */
export function concatSamples(frames: readonly AudioFrame[]): Float32Array {
  return concatFloat32(frames.map((f) => f.samples));
}
