/**
 * Who is calling: per-client limits (streams, sessions, objects) count calls by the peer's IP address.
 *
 * @internal
 */

/** `ipv4:1.2.3.4:5678`, `[::1]:5678` or `1.2.3.4:5678` → the host part: clients are counted per address. */
export function peerHost(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, '');
  const i = bare.lastIndexOf(':');
  return (i > 0 ? bare.slice(0, i) : bare).replace(/^\[|\]$/g, '');
}
