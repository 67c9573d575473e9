/**
 * Executor entry: `node executor/main.js [executor options]` (same flags as `remotemedia executor`), the command of
 * the container image.
 *
 * @module
 */
import { runCli } from './cli.js';

try {
  await runCli([process.argv[0] ?? 'node', process.argv[1] ?? 'executor', 'executor', ...process.argv.slice(2)]);
} catch (e) {
  process.stderr.write(`remotemedia executor: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
