/**
 * `codeNode`: a user transform that runs inside an isolated-vm sandbox, locally or inside `remote()`.
 * @module
 */
import { z } from 'zod';
import { InvalidParamsError, SandboxLimitError } from '../../errors.js';
import type { Emit } from '../../internal/coreOperator.js';
import { defineNode, type NodeOperator } from '../../node.js';
import { sharedIsolatePool } from '../../sandbox/isolatePool.js';
import { packageSource, type PackagedCode } from '../../sandbox/packageCode.js';
import { assertUserCodeEnabled, resolveSandboxLimits } from '../../sandbox/policy.js';
import type { Sandbox } from '../../sandbox/sandbox.js';
import { asyncCoreOperator, type AsyncNodeCore } from '../../internal/asyncCoreOperator.js';

const NODE = 'core.codeNode';

/** Default number of items that may wait while the sandbox works. */
const DEFAULT_QUEUE_SIZE = 16;

/**
 * Most items one `process()`/`flush()` call may return with `many: true` (default and maximum of
 * `maxOutputsPerItem`). Outputs of one call are emitted in one synchronous loop that no credit or backpressure can
 * pause: one item returning `Array(1e6)` held the executor's event loop 1.6 s and grew its RSS by 446 MB. Beyond it
 * the stream fails with `SandboxLimitError` `RESOURCE_EXHAUSTED` naming `maxOutputsPerItem`.
 */
export const MAX_OUTPUTS_PER_ITEM = 1024;

const CodeNodeParamsSchema = z
  .object({
    code: z
      .string()
      .min(1)
      .describe('Packaged script (from packageSource/packageModule) whose module exports process(item) and optionally flush(), or a function as default export. Required.'),
    memoryLimitMb: z
      .number()
      .int()
      .min(8)
      .max(4096)
      .default(64)
      .describe("Heap limit of the sandbox isolate, MB; lowered to the executor's --sandbox-memory-limit-mb. Default: 64."),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .max(60_000)
      .default(1000)
      .describe("Longest single process()/flush() call, ms; lowered to the executor's --sandbox-timeout-ms. Default: 1000."),
    many: z
      .boolean()
      .default(false)
      .describe('When true, process() and flush() return an array of items to emit; when false, one item (undefined emits nothing). Default: false.'),
    maxOutputsPerItem: z
      .number()
      .int()
      .positive()
      .max(MAX_OUTPUTS_PER_ITEM)
      .default(MAX_OUTPUTS_PER_ITEM)
      .describe(`With many: true, most items one process()/flush() call may return; more fails the stream with RESOURCE_EXHAUSTED (they would be emitted in one loop no backpressure can pause). Default and maximum: ${MAX_OUTPUTS_PER_ITEM}.`),
    capabilities: z
      .array(z.enum(['console', 'wasm']))
      .default([])
      .describe(
        "Capabilities granted to the code: 'console' forwards console.log/info/warn/error to the host's stderr; 'wasm' gives a WebAssembly whose memories (a maximum is required) and compiled modules are reserved from half of memoryLimitMb (the heap gets the other half; needs memoryLimitMb ≥ 16; no shared memories; compile/instantiate run synchronously under timeoutMs). A capability the executor does not allow (an executor allows 'wasm' only with --sandbox-capability wasm) fails the chain. Default: [] (none).",
      ),
    queueSize: z
      .number()
      .int()
      .positive()
      .max(100_000)
      .default(DEFAULT_QUEUE_SIZE)
      .describe(`Items that may wait while the sandbox works (a push source fills it; a pullable source is paused instead). Default: ${DEFAULT_QUEUE_SIZE} items.`),
    overflow: z
      .enum(['block', 'drop-oldest', 'drop-newest', 'error'])
      .default('block')
      .describe("What a full queue does with one more item: 'block' pauses a pullable source (lossless; a push source is queued up to PUSH_SOURCE_LIMITS, then fails with OVERFLOW), 'drop-oldest'/'drop-newest' drop and count, 'error' fails. Default: 'block'."),
  })
  .describe('Runs a user transform (process/flush) in an isolated-vm sandbox with memory and time limits');

/** Params of the `core.codeNode` node (what its spec holds). */
export type CodeNodeParams = z.input<typeof CodeNodeParamsSchema>;

/** Options of {@link codeNode}: the params except `code`. */
export type CodeNodeOptions = Omit<CodeNodeParams, 'code'>;

function emitAll(result: unknown, many: boolean, maxOutputs: number, emit: Emit<unknown>, what: string): void {
  if (!many) {
    if (result !== undefined) emit(result);
    return;
  }
  if (result === undefined) return;
  if (!Array.isArray(result)) throw new InvalidParamsError(NODE, 'many', `${what} returned ${typeof result}, but many: true expects an array of items`);
  if (result.length > maxOutputs) {
    throw new SandboxLimitError('RESOURCE_EXHAUSTED', `${NODE}: ${what} returned ${result.length} items, more than maxOutputsPerItem (${maxOutputs})`, { node: NODE });
  }
  for (const item of result) emit(item);
}

function createCodeCore(p: z.output<typeof CodeNodeParamsSchema>): AsyncNodeCore<unknown, unknown> {
  // The executor's caps win: a client may only ask for less time, less memory, and capabilities it allows.
  const limits = resolveSandboxLimits(NODE, p);
  let sandbox: Sandbox | undefined;
  let closed = false;
  const ready = (): Sandbox => sandbox!;
  return {
    async start() {
      const created = await sharedIsolatePool(limits.memoryLimitMb).createSandbox({ timeoutMs: limits.timeoutMs, capabilities: limits.capabilities, label: NODE });
      // Unsubscribed while the isolate was being set up: nobody will close it later.
      if (closed) return created.disposeNow();
      sandbox = created;
      await created.load(p.code, 'codeNode.js');
      if (!(await created.hasProcess())) throw new InvalidParamsError(NODE, 'code', 'the module exports no process(item) function (nor a default function)');
    },
    async push(item, emit) {
      emitAll(await ready().process(item), p.many, p.maxOutputsPerItem, emit, 'process()');
    },
    async flush(emit) {
      emitAll(await ready().flush(), p.many, p.maxOutputsPerItem, emit, 'flush()');
    },
    close() {
      closed = true;
      sandbox?.disposeNow();
    },
  };
}

const codeNodeBuilder = defineNode(
  NODE,
  CodeNodeParamsSchema,
  (p) => {
    // Checked when the chain is built, so an executor started with --no-code refuses the spec before data flows,
    // and a capability the executor does not grant is named before anything runs.
    assertUserCodeEnabled(NODE);
    resolveSandboxLimits(NODE, p);
    // Every call into the isolate is asynchronous (isolated-vm runs it on its own thread), so a runaway item never
    // holds this thread: the node is an async boundary like the ML nodes, one item at a time, in order.
    return asyncCoreOperator(NODE, () => createCodeCore(p), { queueSize: p.queueSize, overflow: p.overflow });
  },
  { description: 'Runs a user transform (process/flush) in an isolated-vm sandbox with memory and time limits', input: 'any', output: 'any' },
);

/**
 * Runs user code as a node, in an isolated-vm isolate: no `process`, `require`, `import`, fs, network, timers,
 * `WebAssembly`, `SharedArrayBuffer` or `Atomics` (only `console` and a budgeted `WebAssembly`, if granted in
 * `capabilities`: with `'wasm'`, half of `memoryLimitMb` is the heap and half the WebAssembly budget). Items cross by
 * structured copy (plain data, typed arrays, Dates, AudioFrames); results are copied inside the sandbox, under its
 * time limit, into plain data (own enumerable properties; Map → object, Set → array; functions refused; bounded in
 * depth, entries and bytes). Each subscription gets a fresh context in a pooled isolate.
 *
 * `fnOrModule` is a self-contained function `(item) => result` (shipped by its source text), or code from
 * `packageModule(path)` whose module exports `process(item)` and optionally `flush()`; both must be synchronous.
 *
 * The node is an async boundary (docs/ARCHITECTURE.md §3): the sandbox runs on isolated-vm's thread, never on the
 * caller's event loop; items are processed one at a time, in order; up to `queueSize` wait (a pullable source is
 * paused, a push source meets the `overflow` policy). Outputs are therefore emitted asynchronously.
 *
 * Inside an executor the executor's caps apply: `timeoutMs` and `memoryLimitMb` are lowered to its
 * `--sandbox-timeout-ms` / `--sandbox-memory-limit-mb`, and a capability it does not allow fails the chain.
 *
 * On complete: calls `flush()` (if exported) and emits what it returns, then completes. On error: upstream errors
 * pass through; a throw in user code errors with `NODE_FAILED` (name, message and stack of the sandbox error, read
 * inside the sandbox and cut to a bounded length); a call over `timeoutMs` errors with `SandboxLimitError`
 * `DEADLINE_EXCEEDED` within `timeoutMs + 50 ms`, an isolate over `memoryLimitMb` with `SandboxLimitError`
 * `RESOURCE_EXHAUSTED` (that isolate is disposed), as do more than the process's `maxIsolates` isolates. Bad params:
 * `INVALID_PARAMS`; an executor started with `--no-code`, or a capability not granted: `PROTOCOL`; `OVERFLOW` per
 * the overflow policy.
 *
 * With `many: true`, a call returning more than `maxOutputsPerItem` items fails with `SandboxLimitError`
 * `RESOURCE_EXHAUSTED` naming it. A chain's codeNodes count against the executor's `maxIsolatesPerClient`.
 *
 * Options (defaults): `memoryLimitMb` 64, `timeoutMs` 1000, `many` false, `maxOutputsPerItem` 1024 (also its
 * maximum), `capabilities` [], `queueSize` 16, `overflow` 'block'.
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
