/**
 * Remote execution: `remote()` runs node chains on an executor over gRPC; `executorStatus()` / `executorNodes()`
 * query one. The executor itself lives in `executor/` (`remotemedia/executor`, `remotemedia executor`).
 * @module
 */
export { remote, type RemoteNode } from './remote.js';
export { DEFAULT_REMOTE_CONFIG, type RemoteConfig, type RemoteTlsConfig } from './config.js';
export { executorStatus, executorNodes, type ExecutorStatus } from './executorClient.js';
export { connect, fromModule, RemoteClient, DEFAULT_CONNECT_CONFIG, type ConnectConfig, type ModuleClass } from './connect.js';
export type { Remote, RemoteResult } from './proxy.js';
export { SandboxLimitError, ProxyDisposedError, SessionNotFoundError } from '../errors.js';
