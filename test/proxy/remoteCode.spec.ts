/** codeNode inside remote(): the sandboxed transform runs on the executor; --no-code refuses it before data flows. */
import { afterEach, describe, expect, it } from 'vitest';
import { from, lastValueFrom, toArray } from 'rxjs';
import { codeNode, remote } from '../../src/index.js';
import { childProxyExecutor, proxyExecutor, type ProxyExecutor } from './helpers.js';

const open: ProxyExecutor[] = [];
afterEach(async () => {
  for (const executor of open.splice(0)) await executor.close();
});

describe('codeNode in remote()', () => {
  it('runs on the executor, in order, with flush', async () => {
    const executor = await proxyExecutor();
    open.push(executor);
    const out = await lastValueFrom(from([1, 2, 3]).pipe(remote({ address: executor.address }, codeNode((x: number) => x * x)), toArray()));
    expect(out).toEqual([1, 4, 9]);
  });

  it('a timeout on the executor comes back as SandboxLimitError DEADLINE_EXCEEDED', async () => {
    const executor = await proxyExecutor();
    open.push(executor);
    const node = codeNode(() => {
      for (;;) {
        /* forever */
      }
    }, { timeoutMs: 100 });
    const error = await lastValueFrom(from([1]).pipe(remote({ address: executor.address }, node))).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'SandboxLimitError', code: 'DEADLINE_EXCEEDED', node: 'core.codeNode' });
  });

  it('an executor started with --no-code refuses the chain with PROTOCOL before any data flows', async () => {
    // A child process: --no-code is process-wide, and this process builds the node too.
    const executor = await childProxyExecutor(['--no-code']);
    open.push(executor);
    const error = await lastValueFrom(from([1]).pipe(remote({ address: executor.address }, codeNode((x: number) => x)))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PROTOCOL' });
    expect((error as Error).message).toContain('does not run user code');
  });
});
