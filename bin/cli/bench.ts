/**
 * `remotemedia bench [--address host:port]`: the remote-stream workload of {@link benchRemote} against an executor
 * (or, without `--address`, one started in this process on loopback); prints one JSON line.
 *
 * @module
 */
import type { Command } from 'commander';
import { startExecutor } from '../../executor/server.js';
import { machineDescription } from './machine.js';
import { benchRemote } from './benchWorkload.js';

interface BenchFlags {
  address?: string;
  token?: string;
  items: number;
  latencyItems: number;
  streams: number;
  window: number;
}

const positive = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`not a positive integer: ${v}`);
  return n;
};

export function addBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('Measure remote streaming: 20 ms 16 kHz frames through a 3-node chain (items/s, round-trip p50/p99)')
    .option('--address <host:port>', 'executor to measure (default: start one in this process on loopback)')
    .option('--token <token>', 'executor token (default: env REMOTEMEDIA_TOKEN)')
    .option('--items <n>', 'frames for the throughput run', positive, 20_000)
    .option('--latency-items <n>', 'frames for the latency run (one in flight)', positive, 2_000)
    .option('--streams <n>', 'concurrent streams in the throughput run', positive, 1)
    .option('--window <n>', 'credit window of the throughput run', positive, 64)
    .action(async (flags: BenchFlags) => {
      const local = flags.address === undefined ? await startExecutor({ port: 0, logLevel: 'silent' }) : undefined;
      try {
        const address = flags.address ?? local!.address;
        const token = flags.token ?? process.env['REMOTEMEDIA_TOKEN'];
        const result = await benchRemote(
          { address, window: flags.window, ...(token !== undefined && { token }) },
          { items: flags.items, latencyItems: flags.latencyItems, streams: flags.streams },
        );
        const line = { workload: 'remote 20ms/16kHz frames, channelMix→energyVad→passThrough', address: flags.address ?? 'in-process', streams: flags.streams, ...result, machine: machineDescription() };
        process.stdout.write(`${JSON.stringify(line)}\n`);
      } finally {
        await local?.close();
      }
    });
}
