/**
 * Unary calls to an executor: `executorStatus()` (GetStatus) and `executorNodes()` (ListNodes), through the same
 * channel pool and auth as `remote()`.
 *
 * @module
 */
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import type { RemoteMediaError } from '../errors.js';
import type { NodeDescriptor, NodeKind } from '../node.js';
import { acquire } from './channelPool.js';
import { resolveRemoteConfig, type RemoteConfig } from './config.js';
import type { GetStatusResponse, ListNodesResponse } from './gen/remotemedia.js';
import { errorFromStatus } from './status.js';

/** What `GetStatus` reports; counts since the executor started unless named "active". */
export type ExecutorStatus = GetStatusResponse;

/** Asks an executor for its status. Rejects with a `RemoteMediaError` (`UNAVAILABLE`, `UNAUTHENTICATED`, ...). */
export function executorStatus(config: RemoteConfig): Promise<ExecutorStatus> {
  return unary<GetStatusResponse>(config, (client, metadata, options, done) => client.getStatus({}, metadata, options, done));
}

/** Lists the node types an executor can build, in the shape of the local `listNodes()`. */
export async function executorNodes(config: RemoteConfig): Promise<NodeDescriptor[]> {
  const response = await unary<ListNodesResponse>(config, (client, metadata, options, done) => client.listNodes({}, metadata, options, done));
  return response.nodes.map((n) => ({
    type: n.type,
    description: n.description,
    input: n.input as NodeKind,
    output: n.output as NodeKind,
    paramsSchema: JSON.parse(n.paramsSchemaJson) as Record<string, unknown>,
  }));
}

type Client = ReturnType<typeof acquire>['client'];

function unary<T>(
  config: RemoteConfig,
  invoke: (client: Client, metadata: Metadata, options: { deadline: Date }, done: (error: ServiceError | null, value?: T) => void) => void,
): Promise<T> {
  const resolved = resolveRemoteConfig(config);
  const lease = acquire(resolved);
  const metadata = new Metadata();
  if (resolved.token !== undefined) metadata.set('authorization', `Bearer ${resolved.token}`);
  return new Promise<T>((resolve, reject: (e: RemoteMediaError) => void) => {
    invoke(lease.client, metadata, { deadline: new Date(Date.now() + resolved.deadlineMs) }, (error, value) => {
      lease.release();
      if (error !== null || value === undefined) reject(errorFromStatus(error ?? {}, lease.address));
      else resolve(value);
    });
  });
}
