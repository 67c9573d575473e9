/**
 * Locates files shipped in the package (`proto/`, `package.json`) from both the source tree (`executor/*.ts`, run
 * with tsx) and the build (`dist/executor/*.js`), which sit at different depths.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of `relative` in the nearest ancestor directory that has it. */
export function packageFile(relative: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`remotemedia: cannot find ${relative} above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The remotemedia package version. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}
