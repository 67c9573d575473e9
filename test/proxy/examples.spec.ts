/** examples/remote-object.ts and examples/remote-code.ts run as documented and print what they claim. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const node = (script: string): Promise<{ stdout: string }> =>
  run(process.execPath, ['--no-node-snapshot', '--import', 'tsx', script], { cwd: process.cwd(), timeout: 60_000 });

describe('proxy examples', () => {
  it('examples/remote-object.ts: registered counter, sandboxed generator closed early, everything freed', async () => {
    const { stdout } = await node('examples/remote-object.ts');
    expect(stdout).toMatch(/Counter on 127\.0\.0\.1:\d+: 11, 12, 13/);
    expect(stdout).toContain('first words ["the","quick","brown","fox"]; remote seen = -6');
    expect(stdout).toContain('executor holds 1 session(s), 2 object(s)');
    expect(stdout).toContain('after close: 0 session(s), 0 object(s)');
  });

  it('examples/remote-code.ts: the same codeNode locally and remotely; the runaway one is stopped', async () => {
    const { stdout } = await node('examples/remote-code.ts');
    expect(stdout).toContain('locally:  ["HELLO!","SANDBOX!"]');
    expect(stdout).toContain('remotely: ["HELLO!","EXECUTOR!"]');
    expect(stdout).toMatch(/runaway: {2}SandboxLimitError DEADLINE_EXCEEDED after \d+ ms/);
  });
});
