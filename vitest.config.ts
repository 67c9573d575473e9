import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.{test,spec}.ts', 'examples/**/*.spec.ts'],
    // The abuse suite runs on its own, one file at a time (test/abuse/vitest.config.ts).
    exclude: ['test/abuse/**', '**/node_modules/**'],
    // Child processes, so that Node flags can be passed (isolated-vm wants --no-node-snapshot on Node >= 20).
    pool: 'forks',
    execArgv: ['--no-node-snapshot', '--expose-gc'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
