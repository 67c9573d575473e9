import { describe, expect, it } from 'vitest';
import { status as Status } from '@grpc/grpc-js';
import { OverflowError, RemoteMediaError, type ErrorCode } from '../../src/errors.js';
import { codeForStatus, errorFromStatus, errorFromWire, statusForCode } from '../../src/remote/status.js';

const CODES: ErrorCode[] = [
  'INVALID_PARAMS', 'UNKNOWN_NODE', 'INVALID_INPUT', 'NODE_FAILED', 'DIVISION_BY_ZERO', 'OVERFLOW', 'IO', 'CANCELLED',
  'UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'UNAUTHENTICATED', 'PROTOCOL', 'INTERNAL',
];

describe('remote status mapping', () => {
  it('maps every error code to a non-OK gRPC status', () => {
    for (const code of CODES) expect(statusForCode(code)).not.toBe(Status.OK);
    expect(statusForCode('UNKNOWN_NODE')).toBe(Status.NOT_FOUND);
    expect(statusForCode('INVALID_PARAMS')).toBe(Status.INVALID_ARGUMENT);
    expect(statusForCode('PROTOCOL')).toBe(Status.FAILED_PRECONDITION);
  });

  it('maps transport statuses back to codes, unknown ones to INTERNAL', () => {
    for (const code of ['CANCELLED', 'UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'UNAUTHENTICATED', 'PROTOCOL'] as const) {
      expect(codeForStatus(statusForCode(code))).toBe(code);
    }
    expect(codeForStatus(Status.DATA_LOSS)).toBe('INTERNAL');
  });

  it('builds the error from the wire message: class, code, node in the message, remote stack', () => {
    const e = errorFromWire({ name: 'OverflowError', code: 'OVERFLOW', message: 'queue full', node: 'core.bounded', stack: 'at remote' }, '127.0.0.1:1');
    expect(e).toBeInstanceOf(OverflowError);
    expect(e.code).toBe('OVERFLOW');
    expect(e.node).toBe('core.bounded');
    expect(e.message).toBe('core.bounded: queue full (on executor 127.0.0.1:1)');
    expect(e.remoteStack).toBe('at remote');
  });

  it('does not let a peer name an inherited member or an unknown code', () => {
    const e = errorFromWire({ name: '__proto__', code: 'NOPE', message: 'x', node: '', stack: '' }, 'h:1');
    expect(e).toBeInstanceOf(RemoteMediaError);
    expect(e.code).toBe('INTERNAL');
    expect(e.node).toBeUndefined();
  });

  it('builds a transport error from a bare status', () => {
    const e = errorFromStatus({ code: Status.UNAVAILABLE, details: 'No connection established' }, 'h:1');
    expect(e.code).toBe('UNAVAILABLE');
    expect(e.retryable).toBe(true);
    expect(e.message).toBe('remote(h:1): UNAVAILABLE: No connection established');
  });
});
