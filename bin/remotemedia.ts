#!/usr/bin/env -S node --no-node-snapshot
/**
 * `remotemedia` command: `executor` (serve), `nodes` (registry), `run` (a declared pipeline over a file),
 * `health` (gRPC health probe), `bench` (remote streaming benchmark), `webrtc` (browser voice server). See `remotemedia --help` and
 * docs/PRODUCTION.md.
 *
 * @module
 */
import { buildCli } from '../executor/cli.js';
import { addBenchCommand } from './cli/bench.js';
import { addHealthCommand } from './cli/health.js';
import { addRunCommand } from './cli/run.js';
import { webrtcCommand } from '../src/media/webrtc/cli.js';
import { remote } from '../src/remote/index.js';

try {
  const program = buildCli();
  addRunCommand(program);
  addHealthCommand(program);
  addBenchCommand(program);
  // Live microphone audio cannot pause: the ML stages on an executor get a window with a dropping policy.
  webrtcCommand(program, { runRemote: (address) => (nodes) => remote({ address, window: 64, overflow: 'drop-oldest' }, ...nodes) });
  await program.parseAsync(process.argv);
} catch (e) {
  process.stderr.write(`remotemedia: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
