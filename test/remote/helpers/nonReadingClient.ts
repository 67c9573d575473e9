/**
 * A `Stream` call over plain `node:http2` whose client does not read until told to: nothing consumes its response, so
 * Node stops granting HTTP/2 window and the executor's writes stall (a grpc-js client cannot do this: it keeps
 * decoding into an unbounded queue even when its stream is paused).
 */
import http2 from 'node:http2';
import { StreamMessage } from '../../../src/remote/gen/remotemedia.js';

export interface NonReadingCall {
  /** Writes one message (gRPC length-prefixed framing). */
  write(message: StreamMessage): void;
  /** Half-closes the request side. */
  end(): void;
  /** Starts reading: every message from now on lands in `received`. */
  read(): void;
  readonly received: StreamMessage[];
  /** The call's grpc-status, once the executor sent it and the client read it. */
  readonly status: Promise<number>;
  /** Resets the stream (RST_STREAM CANCEL) and closes the connection, as a killed client would. */
  close(): void;
}

export function nonReadingCall(address: string): NonReadingCall {
  const session = http2.connect(`http://${address}`);
  session.on('error', () => undefined); // a reset connection is what some cases do on purpose
  const stream = session.request({ ':method': 'POST', ':path': '/remotemedia.v1.RemoteMedia/Stream', 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('error', () => undefined);
  const received: StreamMessage[] = [];
  const status = new Promise<number>((resolve) => {
    stream.on('response', (headers) => headers['grpc-status'] !== undefined && resolve(Number(headers['grpc-status'])));
    stream.on('trailers', (headers) => resolve(Number(headers['grpc-status'])));
  });
  let pending = Buffer.alloc(0);
  return {
    received,
    status,
    write(message) {
      const body = StreamMessage.encode(message).finish();
      const header = Buffer.alloc(5);
      header.writeUInt32BE(body.length, 1);
      stream.write(Buffer.concat([header, body]));
    },
    end: () => stream.end(),
    read() {
      stream.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
          const length = pending.readUInt32BE(1);
          received.push(StreamMessage.decode(pending.subarray(5, 5 + length)));
          pending = pending.subarray(5 + length);
        }
      });
    },
    close() {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
      session.destroy();
    },
  };
}
