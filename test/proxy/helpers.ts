/** Proxy test executors: each fixture's teardown asserts that every session and object was freed. */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { startExecutor, type ExecutorOptions } from '../../executor/index.js';
import { executorStatus, type ExecutorStatus } from '../../src/remote/index.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const REGISTERED = fileURLToPath(new URL('./fixtures/registered.ts', import.meta.url));

export interface ProxyExecutor {
  readonly address: string;
  status(): Promise<ExecutorStatus>;
  /** Waits (≤ 2 s) until the executor holds no session and no object, failing the test otherwise. */
  expectEmpty(): Promise<void>;
  close(): Promise<void>;
}

async function waitEmpty(status: () => Promise<ExecutorStatus>): Promise<void> {
  const until = performance.now() + 2000;
  let last: ExecutorStatus = await status();
  while ((last.activeSessions !== 0 || (last.activeObjects ?? 0) !== 0) && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    last = await status();
  }
  expect({ activeSessions: last.activeSessions, activeObjects: last.activeObjects ?? 0 }).toEqual({ activeSessions: 0, activeObjects: 0 });
}

export async function proxyExecutor(options: ExecutorOptions = {}): Promise<ProxyExecutor> {
  const executor = await startExecutor({ port: 0, logLevel: 'silent', modules: [REGISTERED], ...options });
  const status = (): Promise<ExecutorStatus> => executorStatus({ address: executor.address, token: options.token });
  return { address: executor.address, status, expectEmpty: () => waitEmpty(status), close: () => executor.close() };
}

/** An executor in a child process (so a test can kill it). */
export async function childProxyExecutor(flags: string[] = []): Promise<ProxyExecutor & { kill(): Promise<void> }> {
  const child = spawn(process.execPath, ['--no-node-snapshot', '--import', 'tsx', 'executor/main.ts', '--port', '0', '--module', REGISTERED, '--log-level', 'silent', ...flags], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('child executor did not start within 20 s')), 20_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { listening: string }).listening);
    });
    child.once('exit', (code) => reject(new Error(`child executor exited with ${code}`)));
  });
  const status = (): Promise<ExecutorStatus> => executorStatus({ address });
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return { address, status, expectEmpty: () => waitEmpty(status), close: kill, kill };
}
