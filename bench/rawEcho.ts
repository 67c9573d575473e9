/**
 * The transport floor the remote benchmarks compare against: a grpc-js server on the same proto whose Stream call
 * echoes every message back, with no msgpack, credits or RxJS.
 */
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { GetStatusResponse, RemoteMediaService, type RemoteMediaServer, type StreamMessage } from '../src/remote/gen/remotemedia.js';

/** Starts the echo server on a free loopback port. */
export async function startRawEcho(): Promise<{ address: string; port: number; close(): void }> {
  const server = new Server();
  const echo: Partial<RemoteMediaServer> = {
    stream(call: ServerDuplexStream<StreamMessage, StreamMessage>) {
      call.on('data', (m: StreamMessage) => call.write(m));
      call.on('end', () => call.end());
    },
    getStatus: (_call, callback) => callback(null, GetStatusResponse.fromPartial({ uptimeMs: 1 })),
  };
  server.addService(RemoteMediaService, echo as RemoteMediaServer);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, port, close: () => server.forceShutdown() };
}
