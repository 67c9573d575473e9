import { describe, expect, it } from 'vitest';
import { execSync } from 'node:child_process';
import { ROOT } from './helpers/executors.js';

describe('generated protocol code', () => {
  it('src/remote/gen is current with proto/remotemedia.proto (npm run check:proto)', () => {
    // Throws (fails the test) when protoc's output differs from the committed files.
    const out = execSync('npm run --silent check:proto', { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toContain('src/remote/gen is current');
  });
});
