/**
 * Channel pool: one grpc-js client (one HTTP/2 connection) per executor address and TLS setting, shared by every
 * stream and unary call to it, closed when its last user releases it.
 *
 * Several `addresses`: each new lease goes to the next address in turn, skipping addresses whose last stream ended
 * with UNAVAILABLE (executor killed, unreachable or draining) for a back-off of 1 s doubling to 30 s, until a stream
 * there succeeds again. Only when every address is backing off is one of them tried anyway (and fails fast with a
 * clear error). A lease stays on its address, so a proxy session is pinned to the executor holding its objects.
 * A single grpc-js target naming several executors (`dns:name:port` with several A records, `ipv4:a:p1,b:p2`) is
 * balanced per call by grpc-js' own `round_robin`, which also drops unreachable ones from its pick list.
 *
 * @internal
 */
import { createHash } from 'node:crypto';
import { credentials, status as Status, type ChannelCredentials, type StatusObject } from '@grpc/grpc-js';
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

/** Back-off of addresses whose last stream ended with UNAVAILABLE: skipped by `acquire` until `until` (ms, performance.now()). */
const backingOff = new Map<string, { until: number; backoffMs: number }>();
/** First and largest back-off of an unavailable address, ms. */
export const UNAVAILABLE_BACKOFF_MS = { first: 1_000, max: 30_000 } as const;

const CHANNEL_OPTIONS = {
  // The executor enforces its own receive limit; the client accepts whatever its executor sends.
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  // A DNS name with several A records spreads streams over all of them.
  'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
} as const;

/** Picks the next target of `config` (round robin per address list) and leases its pooled client. */
export function acquire(config: ResolvedRemoteConfig): Lease {
  const address = pickTarget(config.targets);
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
    client: watched(leased.client, address),
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

/** The next target of a list in turn, skipping those backing off (unless all are). */
function pickTarget(targets: readonly string[]): string {
  if (targets.length === 1) return targets[0]!;
  const listKey = targets.join(',');
  const start = nextTarget.get(listKey) ?? 0;
  const now = performance.now();
  let chosen = -1;
  for (let k = 0; k < targets.length && chosen < 0; k++) {
    const i = (start + k) % targets.length;
    if ((backingOff.get(targets[i]!)?.until ?? 0) <= now) chosen = i;
  }
  if (chosen < 0) chosen = start % targets.length;
  nextTarget.set(listKey, (chosen + 1) % targets.length);
  return targets[chosen]!;
}

/**
 * The pooled client, with its Stream calls observed: UNAVAILABLE starts (or doubles) the address' back-off, a
 * call that got the executor's response headers ends it. The pooled client itself is shared and untouched.
 */
function watched(client: RemoteMediaClient, address: string): RemoteMediaClient {
  const view = Object.create(client) as RemoteMediaClient;
  view.stream = ((...args: Parameters<RemoteMediaClient['stream']>) => {
    const call = client.stream(...args);
    call.once('metadata', () => backingOff.delete(address));
    call.once('status', (status: StatusObject) => {
      if (status.code !== Status.UNAVAILABLE) return;
      const previous = backingOff.get(address)?.backoffMs;
      const backoffMs = previous === undefined ? UNAVAILABLE_BACKOFF_MS.first : Math.min(previous * 2, UNAVAILABLE_BACKOFF_MS.max);
      backingOff.set(address, { until: performance.now() + backoffMs, backoffMs });
    });
    return call;
  }) as RemoteMediaClient['stream'];
  return view;
}

/** Addresses backing off after UNAVAILABLE right now (for tests and diagnostics). */
export function unavailableAddresses(): string[] {
  const now = performance.now();
  return [...backingOff.entries()].filter(([, b]) => b.until > now).map(([a]) => a).sort();
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
