/**
 * The one place engines start child processes. Every child is tracked until it exits, killed by
 * {@link killChildProcess}, and killed on process exit, so no engine can leak a process (tests count them with
 * {@link liveChildProcesses}).
 * @module
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const live = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
}

/** Starts `command` with piped stdio (no shell, so arguments are never interpreted) and tracks it until it exits. */
export function spawnTracked(command: string, args: readonly string[]): ChildProcessWithoutNullStreams {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // 'exit' handlers must be synchronous: kill() is, and the kernel reaps the children.
    process.once('exit', killAll);
  }
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  const forget = (): void => {
    live.delete(child);
  };
  child.once('exit', forget);
  // A spawn failure (ENOENT) emits 'error' without 'exit'.
  child.once('error', forget);
  return child;
}

/** Kills a tracked child (SIGTERM, then SIGKILL after `graceMs`); resolves once it has exited. Idempotent. */
export function killChildProcess(child: ChildProcessWithoutNullStreams, graceMs = 500): Promise<void> {
  if (!live.has(child) || child.exitCode !== null || child.signalCode !== null) {
    live.delete(child);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    timer.unref();
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin.destroy();
    child.kill('SIGTERM');
  });
}

/** Number of engine child processes alive now (started and not yet exited). */
export function liveChildProcesses(): number {
  return live.size;
}

/** True when `command` is an existing file in a directory of `$PATH` (checked before spawning, for a clear error). */
export function onPath(command: string): boolean {
  return (process.env['PATH'] ?? '').split(path.delimiter).some((d) => d !== '' && existsSync(path.join(d, command)));
}
