/**
 * Configuration of `remote()` and of the executor client helpers: one zod schema, each field with unit and default.
 *
 * @module
 */
import { z } from 'zod';
import { InvalidParamsError } from '../errors.js';
import { parseParams } from '../node.js';

/** Defaults of {@link RemoteConfig}. */
export const DEFAULT_REMOTE_CONFIG = {
  window: 16,
  overflow: 'block',
  deadlineMs: 30_000,
} as const;

const pem = z.union([z.string(), z.instanceof(Uint8Array)]);

const RemoteConfigSchema = z
  .object({
    address: z.string().min(1).optional().describe("Executor 'host:port' (or a grpc-js target such as 'dns:name:port'). One of address/addresses is required."),
    addresses: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Several executors: each stream goes to the next one in turn (round robin). Default: none.'),
    token: z.string().min(1).optional().describe("Sent as 'authorization: Bearer <token>'. Default: none."),
    tls: z
      .union([z.boolean(), z.object({ ca: pem.optional().describe('CA certificate(s), PEM. Default: the system roots.') })])
      .default(false)
      .describe('Use TLS: true (system roots) or { ca }. Default: false (plaintext; fine on loopback).'),
    window: z
      .number()
      .int()
      .positive()
      .max(65_536)
      .default(DEFAULT_REMOTE_CONFIG.window)
      .describe('Credit window: items sent and not yet consumed by the executor, at most. Also the size of the local queue for a push source. Default: 16.'),
    overflow: z
      .enum(['block', 'drop-oldest', 'drop-newest', 'error'])
      .default(DEFAULT_REMOTE_CONFIG.overflow)
      .describe("What a full local queue does with one more item from a push source. Default: 'block' (pause a pullable source; lossless)."),
    deadlineMs: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_REMOTE_CONFIG.deadlineMs)
      .describe('Longest silence from the executor while the client waits for it (open, credits, end), ms. Default: 30000.'),
  })
  .describe('Where and how remote() runs its nodes.');

/** Configuration of {@link remote}; see the field docs for units and defaults. */
export type RemoteConfig = z.input<typeof RemoteConfigSchema>;
/** {@link RemoteConfig} with defaults filled in and a non-empty address list. */
export type ResolvedRemoteConfig = z.output<typeof RemoteConfigSchema> & { readonly targets: readonly string[] };

/** TLS settings of the client: `true` (system roots) or `{ ca }`. */
export type RemoteTlsConfig = NonNullable<RemoteConfig['tls']>;

/** Validates a config; throws `InvalidParamsError` (node `remote`) naming the field. */
export function resolveRemoteConfig(config: RemoteConfig): ResolvedRemoteConfig {
  const resolved = parseParams('remote', RemoteConfigSchema, config);
  const targets = resolved.addresses ?? (resolved.address === undefined ? [] : [resolved.address]);
  if (targets.length === 0) throw new InvalidParamsError('remote', 'address', "address ('host:port') or addresses is required");
  return { ...resolved, targets };
}
