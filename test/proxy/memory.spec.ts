/** 1,000 create/dispose cycles of a shipped object leave the executor's heap and isolate count flat. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type RemoteClient } from '../../src/index.js';
import { proxyExecutor, type ProxyExecutor } from './helpers.js';

class Box {
  data = new Array(1000).fill(7);
  sum(): number {
    return this.data.reduce((a: number, b: number) => a + b, 0);
  }
}

let executor: ProxyExecutor;
let client: RemoteClient;
beforeAll(async () => {
  executor = await proxyExecutor();
  client = await connect({ address: executor.address });
});
afterAll(async () => {
  await client.close();
  await executor.expectEmpty();
  await executor.close();
});

function heapAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

describe('proxy memory', () => {
  it('1,000 create/dispose cycles: heap delta under 8 MB, no object left', { timeout: 60_000 }, async () => {
    const cycle = async (): Promise<void> => {
      const box = await client.createProxy(Box);
      expect(await box.sum()).toBe(7000);
      await box[Symbol.asyncDispose]();
    };
    for (let i = 0; i < 50; i++) await cycle(); // warm-up: pools, JIT, channel
    const before = heapAfterGc();
    for (let i = 0; i < 1000; i++) await cycle();
    const delta = heapAfterGc() - before;
    expect(delta).toBeLessThan(8 * 1024 * 1024);
    expect((await executor.status()).activeObjects).toBe(0);
  });
});
