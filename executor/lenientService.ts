/**
 * Request decoding that never fails inside grpc-js. When grpc-js cannot deserialize a request it ends the call with
 * its own INTERNAL status at once; if our handler is writing at that moment (an error for the previous message, an
 * output) the write lands on an HTTP/2 stream grpc-js already ended, the trailers are never sent, and the client's
 * call hangs without a status (found by fuzzing: ~12 % of "duplicate open, then garbage" calls). Decoding here
 * turns undecodable bytes into a marker the handler answers like any other bad message, so one code path ends
 * every call.
 *
 * @module
 */
import type { ServiceDefinition } from '@grpc/grpc-js';

const MALFORMED = Symbol('remotemedia.malformedRequest');

/** What a handler receives in place of a request that is not valid protobuf. */
export interface MalformedRequest {
  readonly [MALFORMED]: string;
}

/** True (and narrows) when `request` stands for undecodable bytes; its reason is {@link malformedReason}. */
export function isMalformed(request: unknown): request is MalformedRequest {
  return typeof request === 'object' && request !== null && MALFORMED in request;
}

/** Why the bytes could not be decoded (protobufjs' message, bounded). */
export function malformedReason(request: MalformedRequest): string {
  return request[MALFORMED];
}

/** `definition` with every request deserializer wrapped so that it returns a {@link MalformedRequest} instead of throwing. */
export function lenientService<T extends ServiceDefinition>(definition: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    const decode = method.requestDeserialize;
    wrapped[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return decode(bytes);
        } catch (e) {
          return { [MALFORMED]: (e instanceof Error ? e.message : String(e)).slice(0, 200) };
        }
      },
    };
  }
  return wrapped as T;
}
