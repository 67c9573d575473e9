/**
 * Errors of the engine layer.
 * @module
 */
import { registerErrorClass, RemoteMediaError } from '../errors.js';

/**
 * An engine cannot run on this machine: a binary is not installed, a model directory is empty, a server does not
 * answer. The message names what to install or which files are expected where. Code `UNAVAILABLE`, but never
 * {@link RemoteMediaError.retryable}: retrying without installing something gives the same answer.
 */
export class EngineUnavailableError extends RemoteMediaError {
  override readonly name = 'EngineUnavailableError';
  /** Engine label, e.g. `'pocketsphinx'`. */
  readonly engine: string;
  /** What is wrong and how to fix it (the message without the node and engine prefix). */
  readonly detail: string;

  constructor(engine: string, detail: string, options: { cause?: unknown; node?: string; remoteStack?: string } = {}) {
    super('UNAVAILABLE', `${options.node === undefined ? '' : `${options.node}: `}engine '${engine}' unavailable: ${detail}`, options);
    this.engine = engine;
    this.detail = detail;
  }

  override get retryable(): boolean {
    return false;
  }
}

// From an executor it arrives as data; rebuild the class so `retryable` stays false on the client.
registerErrorClass('EngineUnavailableError', (data) => {
  const parsed = /engine '([^']*)' unavailable: ([\s\S]*)$/.exec(data.message);
  return parsed === null
    ? new RemoteMediaError(data.code, data.message, { node: data.node, remoteStack: data.stack })
    : new EngineUnavailableError(parsed[1]!, parsed[2]!, { node: data.node, remoteStack: data.stack });
});
