import { describe, expect, it } from 'vitest';
import { errorFromData, errorToData, InvalidInputError, OverflowError, RemoteMediaError, toNodeError } from '../src/errors.js';

describe('errors', () => {
  it('toNodeError attributes a node-less RemoteMediaError in place, keeping its class and fields', () => {
    const e = new InvalidInputError('x', 'samples', 'bad');
    (e as { node: string | undefined }).node = undefined;
    const wrapped = toNodeError(e, 'audio.test');
    expect(wrapped).toBe(e);
    expect(wrapped).toBeInstanceOf(InvalidInputError);
    expect(wrapped).toMatchObject({ node: 'audio.test', field: 'samples', code: 'INVALID_INPUT' });
    expect(wrapped.message.startsWith('audio.test: ')).toBe(true);
  });

  it('toNodeError leaves an attributed error alone and wraps foreign throws as NODE_FAILED with the cause', () => {
    const attributed = new OverflowError('OVERFLOW', 'full', { node: 'core.bounded' });
    expect(toNodeError(attributed, 'other')).toBe(attributed);
    const cause = new TypeError('boom');
    expect(toNodeError(cause, 'core.x')).toMatchObject({ code: 'NODE_FAILED', node: 'core.x', message: 'core.x: boom', cause });
  });

  it('round-trips through wire data; unknown or hostile class names and codes fall back safely', () => {
    const back = errorFromData(errorToData(new OverflowError('OVERFLOW', 'full', { node: 'core.bounded' })));
    expect(back).toBeInstanceOf(OverflowError);
    expect(back).toMatchObject({ code: 'OVERFLOW', node: 'core.bounded', message: 'full' });
    for (const name of ['constructor', '__proto__', 'toString', 'Nope']) {
      const e = errorFromData({ name, code: 'BOGUS' as 'INTERNAL', message: 'm' });
      expect(e.constructor).toBe(RemoteMediaError);
      expect(e.code).toBe('INTERNAL');
    }
  });

  it('retryable only for transport conditions', () => {
    expect(new RemoteMediaError('UNAVAILABLE', 'x').retryable).toBe(true);
    expect(new RemoteMediaError('INVALID_PARAMS', 'x').retryable).toBe(false);
  });
});
