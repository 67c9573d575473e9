/**
 * The signaling protocol between the page and {@link startWebRtcServer}: JSON text messages over a WebSocket at
 * `/ws`. Pure: parsing and building messages, no sockets.
 *
 * Client → server: `{ type: 'offer', sdp }`, `{ type: 'ice-candidate', candidate }`, `{ type: 'close' }`.
 * Server → client: `{ type: 'answer', sdp, peerId }`, `{ type: 'ice-candidate', candidate }`,
 * `{ type: 'error', code, message }`, `{ type: 'close', reason }`.
 * @module
 */
import { z } from 'zod';
import type { ErrorCode } from '../../errors.js';

/** Longest SDP accepted, in UTF-16 code units. A browser's audio+data offer is ~3–6 k; this bounds parser work. */
export const MAX_SDP_LENGTH = 32_000;

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
