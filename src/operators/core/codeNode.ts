/**
 * `codeNode`: a user transform that runs inside an isolated-vm sandbox, locally or inside `remote()`.
 * @module
 */
import { z } from 'zod';
import { InvalidParamsError } from '../../errors.js';
import { coreOperator, type Emit, type NodeCore } from '../../internal/coreOperator.js';
import { defineNode, type NodeOperator } from '../../node.js';
import { sharedIsolatePool } from '../../sandbox/isolatePool.js';
import { packageSource, type PackagedCode } from '../../sandbox/packageCode.js';
import { assertUserCodeEnabled } from '../../sandbox/policy.js';

const NODE = 'core.codeNode';

const CodeNodeParamsSchema = z
  .object({
    code: z
      .string()
      .min(1)
      .describe('Packaged script (from packageSource/packageModule) whose module exports process(item) and optionally flush(), or a function as default export. Required.'),
    memoryLimitMb: z.number().int().min(8).max(4096).default(64).describe('Heap limit of the sandbox isolate, MB. Default: 64.'),
    timeoutMs: z.number().int().positive().max(60_000).default(1000).describe('Longest single process()/flush() call, ms. Default: 1000.'),
    many: z
      .boolean()
      .default(false)
      .describe('When true, process() and flush() return an array of items to emit; when false, one item (undefined emits nothing). Default: false.'),
    capabilities: z
      .array(z.enum(['console']))
      .default([])
      .describe("Capabilities granted to the code: 'console' forwards console.log/info/warn/error to the host's stderr. Default: [] (none)."),
  })
  .describe('Runs a user transform (process/flush) in an isolated-vm sandbox with memory and time limits');

/** Params of the `core.codeNode` node (what its spec holds). */
export type CodeNodeParams = z.input<typeof CodeNodeParamsSchema>;

/** Options of {@link codeNode}: the params except `code`. */
export type CodeNodeOptions = Omit<CodeNodeParams, 'code'>;

function emitAll(result: unknown, many: boolean, emit: Emit<unknown>, what: string): void {
  if (!many) {
    if (result !== undefined) emit(result);
    return;
  }
  if (result === undefined) return;
  if (!Array.isArray(result)) throw new InvalidParamsError(NODE, 'many', `${what} returned ${typeof result}, but many: true expects an array of items`);
  for (const item of result) emit(item);
}

function createCodeCore(p: z.output<typeof CodeNodeParamsSchema>): NodeCore<unknown, unknown> {
  const sandbox = sharedIsolatePool(p.memoryLimitMb).createSandboxSync({ timeoutMs: p.timeoutMs, capabilities: p.capabilities, label: NODE });
  try {
    sandbox.loadSync(p.code, 'codeNode.js');
    if (!sandbox.hasProcessSync()) throw new InvalidParamsError(NODE, 'code', 'the module exports no process(item) function (nor a default function)');
  } catch (e) {
    sandbox.disposeSync();
    throw e;
  }
  return {
    push(item, emit) {
      emitAll(sandbox.processSync(item), p.many, emit, 'process()');
    },
    flush(emit) {
      emitAll(sandbox.flushSync(), p.many, emit, 'flush()');
    },
    close() {
      sandbox.disposeSync();
    },
  };
}

const codeNodeBuilder = defineNode(
  NODE,
  CodeNodeParamsSchema,
  (p) => {
    // Checked when the chain is built, so an executor started with --no-code refuses the spec before data flows.
    assertUserCodeEnabled(NODE);
    // The core calls into the isolate synchronously (applySync): a node core is synchronous, and `timeoutMs`
    // bounds how long one item can hold the thread.
    return coreOperator(NODE, () => createCodeCore(p));
  },
  { description: 'Runs a user transform (process/flush) in an isolated-vm sandbox with memory and time limits', input: 'any', output: 'any' },
);

/**
 * Runs user code as a node, in an isolated-vm isolate: no `process`, `require`, `import`, fs, network or timers
 * (only `console`, if granted in `capabilities`). Items cross by structured copy (plain data, typed arrays,
 * AudioFrames). Each subscription gets a fresh context in a pooled isolate.
 *
 * `fnOrModule` is a self-contained function `(item) => result` (shipped by its source text), or code from
 * `packageModule(path)` whose module exports `process(item)` and optionally `flush()`.
 *
 * On complete: calls `flush()` (if exported) and emits what it returns, then completes. On error: upstream errors
 * pass through; a throw in user code errors with `NODE_FAILED` (message and stack of the sandbox error); a call
 * over `timeoutMs` errors with `SandboxLimitError` `DEADLINE_EXCEEDED`, an isolate over `memoryLimitMb` with
 * `SandboxLimitError` `RESOURCE_EXHAUSTED` (that isolate is disposed). Bad params: `INVALID_PARAMS`; an executor
 * started with `--no-code` refuses the node with `PROTOCOL`.
 *
 * Options (defaults): `memoryLimitMb` 64, `timeoutMs` 1000, `many` false, `capabilities` [].
 * @example
 * ```ts
 * numbers$.pipe(codeNode((x: number) => x * 2, { timeoutMs: 50 }));
 * frames$.pipe(remote({ address }, codeNode(await packageModule('./gain.ts'))));
 * ```
 */
export function codeNode(fnOrModule: ((item: never) => unknown) | Pick<PackagedCode, 'code'>, options: CodeNodeOptions = {}): NodeOperator<unknown, unknown> {
  const code = typeof fnOrModule === 'function' ? packageSource(fnOrModule, 'codeNode').code : fnOrModule?.code;
  if (typeof code !== 'string') throw new InvalidParamsError(NODE, 'code', 'expected a function or packaged code ({ code })');
  return codeNodeBuilder({ ...options, code });
}
