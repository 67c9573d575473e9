/**
 * Process-wide switch for user code. An executor started with `--no-code` turns it off, so that a `core.codeNode`
 * spec arriving over the wire is refused when its chain is built, as shipped proxy classes are.
 *
 * @module
 */
import { RemoteMediaError } from '../errors.js';

let enabled = true;

/** Turns running user code in this process on or off. Default: on. */
export function setUserCodeEnabled(on: boolean): void {
  enabled = on;
}

/** True when user code may run in this process. */
export function userCodeEnabled(): boolean {
  return enabled;
}

/** Throws `PROTOCOL` (gRPC FAILED_PRECONDITION) naming `node` when user code is off. */
export function assertUserCodeEnabled(node: string): void {
  if (!enabled) throw new RemoteMediaError('PROTOCOL', `${node}: this process does not run user code (executor started with --no-code)`, { node });
}
