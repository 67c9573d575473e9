/**
 * Bearer-token check for executor calls (`authorization: Bearer <token>` metadata).
 *
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';

/**
 * Returns a checker for `token`, or one that accepts everything when no token is configured.
 * Both sides are hashed first so the compare is timing-safe and independent of the presented length.
 */
export function bearerChecker(token: string | undefined): (metadata: Metadata) => boolean {
  if (token === undefined) return () => true;
  const expected = digest(`Bearer ${token}`);
  return (metadata) => {
    const presented = metadata.get('authorization')[0];
    if (typeof presented !== 'string') return false;
    return timingSafeEqual(digest(presented), expected);
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
