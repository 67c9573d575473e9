/**
 * Channel pool: one grpc-js client (one HTTP/2 connection) per executor address and TLS setting, shared by every
 * stream and unary call to it, closed when its last user releases it.
 *
 * @internal
 */
import { createHash } from 'node:crypto';
import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { RemoteMediaClient } from './gen/remotemedia.js';
import type { ResolvedRemoteConfig } from './config.js';

interface Entry {
  readonly client: RemoteMediaClient;
  users: number;
}

/** A use of a pooled client; call {@link Lease.release} exactly once (extra calls are ignored). */
export interface Lease {
  readonly client: RemoteMediaClient;
  readonly address: string;
  release(): void;
}

const pool = new Map<string, Entry>();
const nextTarget = new Map<string, number>();

const CHANNEL_OPTIONS = {
  // The executor enforces its own receive limit; the client accepts whatever its executor sends.
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  // A DNS name with several A records spreads streams over all of them.
  'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
} as const;

/** Picks the next target of `config` (round robin per address list) and leases its pooled client. */
export function acquire(config: ResolvedRemoteConfig): Lease {
  const listKey = config.targets.join(',');
  const index = nextTarget.get(listKey) ?? 0;
  nextTarget.set(listKey, (index + 1) % config.targets.length);
  const address = config.targets[index % config.targets.length]!;
  const key = `${address}|${tlsKey(config.tls)}`;
  let entry = pool.get(key);
  if (entry === undefined) {
    entry = { client: new RemoteMediaClient(address, channelCredentials(config.tls), CHANNEL_OPTIONS), users: 0 };
    pool.set(key, entry);
  }
  entry.users++;
  const leased = entry;
  let released = false;
  return {
    client: leased.client,
    address,
    release() {
      if (released) return;
      released = true;
      leased.users--;
      if (leased.users === 0 && pool.get(key) === leased) {
        pool.delete(key);
        leased.client.close();
      }
    },
  };
}

/** Number of open pooled channels (for tests and diagnostics). */
export function openChannelCount(): number {
  return pool.size;
}

function channelCredentials(tls: ResolvedRemoteConfig['tls']): ChannelCredentials {
  if (tls === false) return credentials.createInsecure();
  if (tls === true || tls.ca === undefined) return credentials.createSsl();
  return credentials.createSsl(Buffer.from(tls.ca));
}

function tlsKey(tls: ResolvedRemoteConfig['tls']): string {
  if (tls === false) return 'plain';
  if (tls === true || tls.ca === undefined) return 'tls';
  return `tls:${createHash('sha256').update(tls.ca).digest('hex')}`;
}
