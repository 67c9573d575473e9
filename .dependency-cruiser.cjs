/**
 * Layering rules of remotemedia (docs/ARCHITECTURE.md, "Layers"). `npm run lint` fails on a violation.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'operators-are-transport-free',
      comment: 'A node does not know where it runs: src/operators never imports the remote layer or the executor.',
      severity: 'error',
      from: { path: '^src/operators/' },
      to: { path: '^(src/remote/|executor/)' },
    },
    {
      name: 'core-is-transport-free',
      comment: 'The node model and errors know nothing of gRPC, sockets or files.',
      severity: 'error',
      from: { path: '^src/(node|errors)\\.ts$' },
      to: { path: '^(src/remote/|src/media/|src/sandbox/|executor/)|node_modules/@grpc' },
    },
    {
      name: 'media-and-sandbox-know-no-grpc',
      comment: 'src/media and src/sandbox are usable without a network transport.',
      severity: 'error',
      from: { path: '^src/(media|sandbox)/' },
      to: { path: '^src/remote/|node_modules/@grpc|^executor/' },
    },
    {
      name: 'src-never-imports-executor-or-tests',
      comment: 'The library does not depend on the executor program, tests, examples or benchmarks.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(executor|test|examples|bench)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/remote/gen/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
