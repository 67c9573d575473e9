#!/usr/bin/env -S node --no-node-snapshot
/**
 * `remotemedia` command: `executor` (serve), `nodes` (registry), `run` (a declared pipeline over a file),
 * `health` (gRPC health probe), `bench` (remote streaming benchmark). See `remotemedia --help` and
 * docs/PRODUCTION.md.
 *
 * @module
 */
import { buildCli } from '../executor/cli.js';
import { addBenchCommand } from './cli/bench.js';
import { addHealthCommand } from './cli/health.js';
import { addRunCommand } from './cli/run.js';

try {
  const program = buildCli();
  addRunCommand(program);
  addHealthCommand(program);
  addBenchCommand(program);
  await program.parseAsync(process.argv);
} catch (e) {
  process.stderr.write(`remotemedia: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
