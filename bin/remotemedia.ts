#!/usr/bin/env node
/**
 * `remotemedia` command: `remotemedia executor --port N [--host H] [--token T] [--module path]...` and
 * `remotemedia nodes`. See `remotemedia --help`.
 *
 * @module
 */
import { runCli } from '../executor/cli.js';

try {
  await runCli(process.argv);
} catch (e) {
  process.stderr.write(`remotemedia: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
