/**
 * A raw protocol client for hostile-input tests: writes exactly the messages given and reports what came back.
 */
import { credentials, Metadata, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { RemoteMediaClient, type StreamMessage } from '../../../src/remote/gen/remotemedia.js';

export interface RawResult {
  readonly messages: StreamMessage[];
  readonly status: StatusObject | ServiceError;
}

/** Sends `messages` on one Stream call (then half-closes unless `keepOpen`) and resolves with the final status. */
export function rawStream(address: string, messages: StreamMessage[], options: { token?: string; keepOpen?: boolean } = {}): Promise<RawResult> {
  const client = new RemoteMediaClient(address, credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
  const metadata = new Metadata();
  if (options.token !== undefined) metadata.set('authorization', `Bearer ${options.token}`);
  const call = client.stream(metadata);
  const received: StreamMessage[] = [];
  return new Promise<RawResult>((resolve) => {
    call.on('data', (m: StreamMessage) => received.push(m));
    call.on('error', () => undefined); // the status event carries it
    call.on('status', (status: StatusObject) => {
      client.close();
      resolve({ messages: received, status });
    });
    for (const m of messages) call.write(m);
    if (options.keepOpen !== true) call.end();
  });
}

export const open = (nodes: Array<{ type: string; params?: unknown }>, window = 8): StreamMessage => ({
  open: { nodes: nodes.map((n) => ({ type: n.type, paramsJson: JSON.stringify(n.params ?? {}) })), window },
});
export const data = (seq: number, payload: Uint8Array): StreamMessage => ({ data: { seq, payload: Buffer.from(payload) } });
