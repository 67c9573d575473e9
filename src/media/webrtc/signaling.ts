/**
 * The signaling protocol between the page and {@link startWebRtcServer}: JSON text messages over a WebSocket at
 * `/ws`. Pure: parsing and building messages, no sockets.
 *
 * Client → server: `{ type: 'offer', sdp }`, `{ type: 'ice-candidate', candidate }`, `{ type: 'close' }`.
 * Server → client: `{ type: 'answer', sdp, peerId }`, `{ type: 'ice-candidate', candidate }`,
 * `{ type: 'error', code, message }`, `{ type: 'close', reason }`.
 * @module
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { redactPaths, type ErrorCode } from '../../errors.js';

/** Longest SDP accepted, in UTF-16 code units. A browser's audio+data offer is ~3–6 k; this bounds parser work. */
export const MAX_SDP_LENGTH = 32_000;

/**
 * Media sections (`m=` lines) accepted in an offer. The page offers two (audio + data channel); werift builds
 * transceivers and, for sections outside a BUNDLE group, an ICE agent with its own UDP sockets per section, so an offer
 * of hundreds of sections would cost hundreds of sockets.
 */
export const MAX_SDP_MEDIA_SECTIONS = 4;

/**
 * Remote ICE candidates per peer connection (in the offer plus trickled). A browser sends a handful; each one is
 * paired with every local candidate and probed with STUN checks, so a flood would make the server send packets to
 * any address the client names.
 */
export const MAX_REMOTE_CANDIDATES = 32;

/** Longest error text sent to a client, in UTF-16 code units. */
export const MAX_CLIENT_MESSAGE_CHARS = 200;

const CandidateSchema = z
  .object({
    candidate: z.string().max(1_000),
    sdpMid: z.string().max(64).nullable().optional(),
    sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(),
    usernameFragment: z.string().max(256).nullable().optional(),
  })
  .nullable();

const ClientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('offer'), sdp: z.string().min(1).max(MAX_SDP_LENGTH) }),
  z.object({ type: z.literal('ice-candidate'), candidate: CandidateSchema }),
  z.object({ type: z.literal('close') }),
]);

/** A message the client may send; anything else is answered with an `error` message. */
export type ClientMessage = z.output<typeof ClientMessageSchema>;

/** An ICE candidate as the browser's `RTCIceCandidate.toJSON()` gives it; `null` = end of candidates. */
export type IceCandidateJson = z.output<typeof CandidateSchema>;

/** A message the server sends. */
export type ServerMessage =
  | { readonly type: 'answer'; readonly sdp: string; readonly peerId: string }
  | { readonly type: 'ice-candidate'; readonly candidate: IceCandidateJson }
  | { readonly type: 'error'; readonly code: ErrorCode; readonly message: string }
  | { readonly type: 'close'; readonly reason: string };

/** Result of {@link parseClientMessage}: the message, or the `error` message to send back. */
export type ParsedClientMessage = { readonly ok: true; readonly message: ClientMessage } | { readonly ok: false; readonly error: ServerMessage & { type: 'error' } };

const KNOWN_TYPES = new Set(['offer', 'ice-candidate', 'close']);

/** Parses one WebSocket text message from a client; never throws. */
export function parseClientMessage(text: string): ParsedClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('PROTOCOL', 'message is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('PROTOCOL', 'message must be a JSON object with a "type"');
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return fail('PROTOCOL', 'message has no string "type"');
  if (!KNOWN_TYPES.has(type)) return fail('PROTOCOL', `unknown message type '${type.slice(0, 40)}' (expected offer, ice-candidate or close)`);
  const parsed = ClientMessageSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join('.') ?? '';
    return fail('PROTOCOL', `'${type}' message: field '${field}': ${issue?.message ?? 'invalid'}`);
  }
  return { ok: true, message: parsed.data };
}

/** Builds an `error` message. */
export function errorMessage(code: ErrorCode, message: string): ServerMessage & { type: 'error' } {
  return { type: 'error', code, message };
}

function fail(code: ErrorCode, message: string): ParsedClientMessage {
  return { ok: false, error: errorMessage(code, message) };
}

/** Result of {@link prepareOfferSdp}. */
export type PreparedOffer =
  | { readonly ok: true; readonly sdp: string; readonly candidates: number }
  | { readonly ok: false; readonly error: ServerMessage & { type: 'error' } };

/**
 * Checks an offer before werift sees it and drops the ICE candidates the server never uses: those whose address is
 * not an IP literal (an mDNS `.local` name makes werift open a multicast socket per peer and query the LAN; another
 * host name would be resolved through DNS on the client's behalf) and, with `loopbackOnly`, non-loopback ones. Refuses
 * more than {@link MAX_SDP_MEDIA_SECTIONS} media sections or {@link MAX_REMOTE_CANDIDATES} kept candidates.
 */
export function prepareOfferSdp(sdp: string, loopbackOnly: boolean): PreparedOffer {
  const lines = sdp.split(/\r?\n/);
  const sections = lines.filter((line) => line.startsWith('m=')).length;
  if (sections > MAX_SDP_MEDIA_SECTIONS) {
    return { ok: false, error: errorMessage('RESOURCE_EXHAUSTED', `the offer has ${sections} media sections (max ${MAX_SDP_MEDIA_SECTIONS})`) };
  }
  const kept = lines.filter((line) => !line.startsWith('a=candidate:') || usableCandidate(line, loopbackOnly));
  const candidates = kept.filter((line) => line.startsWith('a=candidate:')).length;
  if (candidates > MAX_REMOTE_CANDIDATES) {
    return { ok: false, error: errorMessage('RESOURCE_EXHAUSTED', `the offer has ${candidates} ICE candidates (max ${MAX_REMOTE_CANDIDATES})`) };
  }
  return { ok: true, sdp: kept.join('\r\n'), candidates };
}

/** True when the server would use this remote candidate (see {@link prepareOfferSdp}). */
export function usableCandidate(candidate: string, loopbackOnly: boolean): boolean {
  const address = candidateAddress(candidate) ?? '';
  return loopbackOnly ? isLoopbackAddress(address) : isIP(address) !== 0;
}

/**
 * A thrown value as error text for a client: its message only (never a stack), on one line, absolute paths replaced
 * by `<path>`, at most {@link MAX_CLIENT_MESSAGE_CHARS} long. A `TypeError`/`RangeError` (a library tripping over
 * crafted input) becomes `fallback` instead of its internals.
 */
export function clientErrorText(error: unknown, fallback: string): string {
  if (error instanceof TypeError || error instanceof RangeError) return fallback;
  const raw = error instanceof Error ? error.message : typeof error === 'string' ? error : fallback;
  const text = redactPaths(
    // eslint-disable-next-line no-control-regex -- control characters are what this strips
    raw.replace(/[\u0000-\u001f\u007f]+/g, ' '),
  ).trim();
  if (text === '') return fallback;
  return text.length <= MAX_CLIENT_MESSAGE_CHARS ? text : `${text.slice(0, MAX_CLIENT_MESSAGE_CHARS - 1)}…`;
}

/**
 * The key that per-address limits count by: IPv4 (also IPv4-mapped IPv6, `::ffff:1.2.3.4`) as is, IPv6 by its /64
 * prefix (one subscriber usually holds a whole /64), anything unparsable as `'unknown'`.
 */
export function addressKey(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return 'unknown';
  const address = remoteAddress.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) === 4) return address;
  if (isIP(address) !== 6) return 'unknown';
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  // An embedded IPv4 tail (`64:ff9b::1.2.3.4`) takes two groups.
  const groupsOf = (part: string): string[] => (part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['v4', 'v4'] : [g])));
  const left = groupsOf(head);
  const right = address.includes('::') ? groupsOf(tail) : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** True for an IPv4 loopback address (127.0.0.0/8). */
export function isLoopbackAddress(address: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

/**
 * Keeps only loopback ICE candidates in an SDP (lines `a=candidate:… <address> <port> typ …`). Used when the server
 * listens on loopback: a browser on this machine then never tries the host's other interfaces.
 */
export function keepLoopbackCandidates(sdp: string): string {
  return sdp
    .split(/\r\n/)
    .filter((line) => !line.startsWith('a=candidate:') || isLoopbackAddress(candidateAddress(line) ?? ''))
    .join('\r\n');
}

/** The connection address of a candidate line (`candidate:…` or `a=candidate:…`), or undefined. */
export function candidateAddress(candidate: string): string | undefined {
  // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...
  return candidate.replace(/^a=/, '').split(' ')[4];
}
