/**
 * The executor: serves node chains to `remote()` clients over gRPC. Import as `remotemedia/executor` (built to
 * `dist/executor/index.js`), or run `remotemedia executor --port N`.
 *
 * @module
 */
export { startExecutor, SERVICE_NAME, type Executor } from './server.js';
export {
  DEFAULT_EXECUTOR_LIMITS,
  executorOptionsJsonSchema,
  isLoopbackHost,
  resolveExecutorOptions,
  type ExecutorOptions,
  type ResolvedExecutorOptions,
} from './options.js';
export { registerClass, registeredClassNames, type RegisteredClass } from './classes.js';
export { DEFAULT_PROXY_LIMITS } from './objectsRegistry.js';
