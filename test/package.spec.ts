import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** Imports a specifier in a plain Node process (no vitest transform), printing its export names. */
async function exportsOf(specifier: string): Promise<string[]> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m)));`]);
  return JSON.parse(stdout) as string[];
}

describe('the built package (npm test builds first)', () => {
  it('has been built', () => {
    expect(existsSync('dist/src/index.js'), 'run `npm run build` (npm test does it for you)').toBe(true);
  });

  it("exports the foundation's public names from 'remotemedia'", async () => {
    const names = await exportsOf('remotemedia');
    for (const name of [
      'defineNode', 'listNodes', 'fromSpec', 'fromSpecs',
      'audioFrame', 'toInt16', 'fromInt16', 'fromWavFile', 'toWavFile', 'readWavFile',
      'passThrough', 'batch', 'audioBuffer', 'resample', 'channelMix', 'audioTransform', 'energyVad', 'vadTriggeredBuffer',
      'calculator', 'textTransform', 'bounded', 'mapAsync', 'pullable', 'fromAsyncIterable', 'fromReadable', 'flowStats',
      'RemoteMediaError', 'InvalidParamsError', 'UnknownNodeError', 'InvalidInputError', 'OverflowError',
    ]) {
      expect(names, name).toContain(name);
    }
  });

  it("exports the marble helpers from 'remotemedia/testing'", async () => {
    expect(await exportsOf('remotemedia/testing')).toEqual(expect.arrayContaining(['marbleTest', 'createTestScheduler', 'summarizeError']));
  });
});
