/**
 * Status as data: the one place that maps remotemedia {@link ErrorCode}s to gRPC status codes and back, and that
 * turns what arrived on a call (an `Error` stream message, or only a gRPC status) into a {@link RemoteMediaError}.
 *
 * @internal
 */
import { status as Status, type ServiceError } from '@grpc/grpc-js';
import { errorFromData, redactPaths, RemoteMediaError, type ErrorCode, type ErrorData } from '../errors.js';
import type { Error as WireError } from './gen/remotemedia.js';

/** gRPC status an executor ends a call with, per remotemedia error code. */
const STATUS_BY_CODE: Readonly<Record<ErrorCode, Status>> = {
  INVALID_PARAMS: Status.INVALID_ARGUMENT,
  UNKNOWN_NODE: Status.NOT_FOUND,
  INVALID_INPUT: Status.INVALID_ARGUMENT,
  // A node's own failure happened in another address space: UNKNOWN is gRPC's word for that.
  NODE_FAILED: Status.UNKNOWN,
  DIVISION_BY_ZERO: Status.OUT_OF_RANGE,
  OVERFLOW: Status.RESOURCE_EXHAUSTED,
  IO: Status.INTERNAL,
  CANCELLED: Status.CANCELLED,
  UNAVAILABLE: Status.UNAVAILABLE,
  DEADLINE_EXCEEDED: Status.DEADLINE_EXCEEDED,
  RESOURCE_EXHAUSTED: Status.RESOURCE_EXHAUSTED,
  UNAUTHENTICATED: Status.UNAUTHENTICATED,
  PROTOCOL: Status.FAILED_PRECONDITION,
  INTERNAL: Status.INTERNAL,
};

/** remotemedia code for a gRPC status that arrived without an `Error` message (transport or limit failures). */
const CODE_BY_STATUS: Readonly<Partial<Record<Status, ErrorCode>>> = {
  [Status.CANCELLED]: 'CANCELLED',
  [Status.INVALID_ARGUMENT]: 'INVALID_INPUT',
  [Status.DEADLINE_EXCEEDED]: 'DEADLINE_EXCEEDED',
  [Status.NOT_FOUND]: 'UNKNOWN_NODE',
  [Status.RESOURCE_EXHAUSTED]: 'RESOURCE_EXHAUSTED',
  [Status.FAILED_PRECONDITION]: 'PROTOCOL',
  [Status.UNAVAILABLE]: 'UNAVAILABLE',
  [Status.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [Status.PERMISSION_DENIED]: 'UNAUTHENTICATED',
};

/** The gRPC status for a remotemedia error code. */
export function statusForCode(code: ErrorCode): Status {
  return STATUS_BY_CODE[code];
}

/** The remotemedia code for a gRPC status; anything unmapped is `INTERNAL`. */
export function codeForStatus(status: Status): ErrorCode {
  return CODE_BY_STATUS[status] ?? 'INTERNAL';
}

/**
 * Longest error message an executor sends, UTF-16 code units. Messages often quote client text (a node type, a
 * param); without a bound a client could make the executor echo 100 KB into `grpc-message` trailers.
 */
export const MAX_WIRE_MESSAGE_CHARS = 1024;

/** Longest node type echoed in an error, UTF-16 code units. */
const MAX_WIRE_NODE_CHARS = 256;

/** How much of an error an executor may show its caller. */
export interface WireErrorOptions {
  /**
   * Include the stack, and absolute paths in the message. Off for callers that did not authenticate: they get the
   * code and a short message, never the executor's stack or install paths. Default: true.
   */
  readonly stacks?: boolean;
}

/** Cuts `text` to `max` code units, marking the cut. */
export function truncateText(text: string, max: number = MAX_WIRE_MESSAGE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 15)}… (truncated)`;
}

/**
 * Error data → the wire `Error` message (empty strings for absent fields, as proto3 has no null). The message and
 * node are bounded; without `stacks` the stack is dropped and paths in the message are redacted.
 */
export function errorDataToWire(data: ErrorData, options: WireErrorOptions = {}): WireError {
  const stacks = options.stacks ?? true;
  const message = truncateText(stacks ? data.message : redactPaths(data.message));
  return {
    name: data.name,
    code: data.code,
    message,
    node: truncateText(data.node ?? '', MAX_WIRE_NODE_CHARS),
    stack: stacks ? (data.stack ?? '') : '',
  };
}

/** The `details` (grpc-message trailer) for an error: the same bounded, redacted-when-asked message. */
export function statusDetails(message: string, options: WireErrorOptions = {}): string {
  return truncateText((options.stacks ?? true) ? message : redactPaths(message));
}

/** The wire `Error` message → a {@link RemoteMediaError}, with the node type in the message and the remote stack set. */
export function errorFromWire(wire: WireError, where: string): RemoteMediaError {
  const node = wire.node === '' ? undefined : wire.node;
  const message = node !== undefined && !wire.message.includes(node) ? `${node}: ${wire.message}` : wire.message;
  return errorFromData({
    name: wire.name,
    code: wire.code as ErrorCode,
    message: `${message} (on executor ${where})`,
    node,
    stack: wire.stack === '' ? undefined : wire.stack,
  });
}

/** A gRPC status error that came without an `Error` message (connection lost, limit hit, auth) → RemoteMediaError. */
export function errorFromStatus(error: Partial<ServiceError>, where: string): RemoteMediaError {
  const status = typeof error.code === 'number' ? (error.code as Status) : Status.UNKNOWN;
  const details = error.details ?? error.message ?? 'unknown transport error';
  return new RemoteMediaError(codeForStatus(status), `remote(${where}): ${Status[status] ?? status}: ${details}`, { cause: error });
}
