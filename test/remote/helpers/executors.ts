/**
 * Executors for tests: in-process (`startExecutor`) and child-process (`executor/main.ts` under tsx), both with the
 * test nodes loaded. Every child is killed by `close()`; tests call it in `afterAll`/`finally`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { startExecutor, type ExecutorOptions } from '../../../executor/index.js';
import { executorStatus, type ExecutorStatus } from '../../../src/remote/index.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const TEST_NODES = fileURLToPath(new URL('./testNodes.ts', import.meta.url));

export interface TestExecutor {
  readonly kind: 'in-process' | 'child';
  readonly address: string;
  readonly child?: ChildProcess;
  status(): Promise<ExecutorStatus>;
  close(): Promise<void>;
}

export async function inProcessExecutor(options: ExecutorOptions = {}): Promise<TestExecutor> {
  const executor = await startExecutor({ port: 0, logLevel: 'silent', modules: [TEST_NODES], ...options });
  return {
    kind: 'in-process',
    address: executor.address,
    status: () => executorStatus({ address: executor.address, token: options.token }),
    close: () => executor.close(),
  };
}

/** Extra CLI flags, e.g. ['--max-streams', '2']. */
export async function childExecutor(flags: string[] = []): Promise<TestExecutor> {
  const child = spawn(process.execPath, ['--no-node-snapshot', '--import', 'tsx', 'executor/main.ts', '--port', '0', '--module', TEST_NODES, '--log-level', 'silent', ...flags], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error('child executor did not start within 20 s')), 20_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { listening: string }).listening);
    });
    child.once('exit', (code) => reject(new Error(`child executor exited with ${code}`)));
  });
  return {
    kind: 'child',
    address,
    child,
    status: () => executorStatus({ address }),
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * One in-process executor per test, closed after each: `const executor = useTestExecutor();` then
 * `const e = await executor.start({ maxStreams: 2 })` inside a test.
 */
export function useTestExecutor(): { start(options?: ExecutorOptions): Promise<TestExecutor> } {
  let current: TestExecutor | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return {
    async start(options = {}) {
      await current?.close();
      current = await inProcessExecutor(options);
      return current;
    },
  };
}

/** Polls `executor.status()` every 10 ms until `check` holds; throws with the last status (minus per-node lists). */
export async function untilStatus(executor: Pick<TestExecutor, 'status'>, check: (s: ExecutorStatus) => boolean, withinMs = 5000): Promise<ExecutorStatus> {
  const start = performance.now();
  for (;;) {
    const status = await executor.status();
    if (check(status)) return status;
    if (performance.now() - start > withinMs) throw new Error(`condition not met within ${withinMs} ms: ${JSON.stringify({ ...status, nodes: undefined, nodeTimings: undefined })}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
