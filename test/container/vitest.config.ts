import { defineConfig } from 'vitest/config';

// `npm run test:container` only (not part of `npm test`): needs podman and the image built by
// executor/container/setup.sh.
export default defineConfig({
  test: {
    include: ['test/container/**/*.container.ts'],
    pool: 'forks',
    execArgv: ['--no-node-snapshot'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
