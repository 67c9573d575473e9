import { defineConfig } from 'vitest/config';

// The abuse suite (`npm test` runs it after the main suite, `npm run test:abuse` alone). Its files attack a real
// executor or WebRTC server and assert it answers a probe within 100 ms throughout; they run one file at a time so
// that the attack of one file is not the load another file measures.
export default defineConfig({
  test: {
    include: ['test/abuse/**/*.spec.ts'],
    pool: 'forks',
    fileParallelism: false,
    execArgv: ['--no-node-snapshot', '--expose-gc'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
