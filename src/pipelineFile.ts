/**
 * Declared pipelines: a YAML or JSON file listing node specs, optionally with a `remote:` section that runs them on
 * an executor. `remotemedia run` uses it; so can any program (`loadPipelineFile(path)` → an operator).
 *
 * ```yaml
 * # pipeline.yaml
 * remote:                       # optional; without it the nodes run in this process
 *   address: 127.0.0.1:50051    # or addresses: [a:50051, b:50051]; token from REMOTEMEDIA_TOKEN
 *   window: 16
 * input:
 *   chunkMs: 20                 # frame length when the input is a WAV file
 * nodes:
 *   - type: audio.resample
 *     params: { rate: 16000 }
 *   - type: audio.energyVad
 * ```
 *
 * Every error names the file, line and column and the field (`nodes[1].params.rate`), including unknown node types
 * and invalid params, which are checked against the registry when the file is loaded.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { OperatorFunction } from 'rxjs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { RemoteMediaError } from './errors.js';
import { fromSpec, fromSpecs, type NodeOperator, type NodeSpec } from './node.js';
import './operators/index.js';
import { remote } from './remote/remote.js';
import type { RemoteConfig } from './remote/config.js';

const PipelineFileSchema = z
  .object({
    nodes: z
      .array(
        z
          .object({
            type: z.string().min(1).describe("Registered node type, e.g. 'audio.resample'."),
            params: z.record(z.string(), z.unknown()).optional().describe('Node params. Default: {} (the node defaults).'),
          })
          .strict(),
      )
      .min(1)
      .describe('The chain, in order.'),
    remote: z
      .object({
        address: z.string().min(1).optional(),
        addresses: z.array(z.string().min(1)).min(1).optional(),
        window: z.number().int().positive().optional(),
        overflow: z.enum(['block', 'drop-oldest', 'drop-newest', 'error']).optional(),
        deadlineMs: z.number().int().positive().optional(),
        tls: z.boolean().optional(),
      })
      .strict()
      .refine((r) => r.address !== undefined || r.addresses !== undefined, { message: 'address or addresses is required', path: ['address'] })
      .optional()
      .describe('Run the nodes on an executor (RemoteConfig without secrets; the token comes from the environment). Default: run locally.'),
    input: z
      .object({ chunkMs: z.number().positive().optional().describe('Frame length for WAV input, ms. Default: 20.') })
      .strict()
      .optional(),
  })
  .strict()
  .describe('A declared pipeline: node specs, optionally run remotely.');

/** A pipeline file after validation. */
export interface PipelineFile {
  /** Where it was read from (for messages). */
  readonly source: string;
  readonly nodes: readonly NodeSpec[];
  /** Present when the nodes run on an executor. */
  readonly remote?: Omit<RemoteConfig, 'token'>;
  /** WAV frame length, ms. Default: 20. */
  readonly chunkMs: number;
}

/** A pipeline file is malformed or names something invalid; `line`/`column` are 1-based (0 when unknown). */
export class PipelineFileError extends RemoteMediaError {
  override readonly name = 'PipelineFileError';
  constructor(
    readonly source: string,
    /** Dotted path of the offending field, e.g. `nodes[1].params.rate` (`''` for the file itself). */
    readonly field: string,
    readonly line: number,
    readonly column: number,
    problem: string,
  ) {
    super('INVALID_PARAMS', `${source}:${line}:${column}: ${field === '' ? '' : `${field}: `}${problem}`, { node: 'pipelineFile' });
  }
}

/** Parses and validates pipeline text (YAML or JSON; JSON is valid YAML). */
export function parsePipelineFile(text: string, source = 'pipeline'): PipelineFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    const { line, col } = lineCounter.linePos(firstError.pos[0]);
    throw new PipelineFileError(source, '', line, col, `not valid YAML/JSON: ${firstError.message.split('\n')[0] ?? ''}`);
  }
  const at = (path: readonly PropertyKey[]): { line: number; column: number } => {
    // The deepest node of the path that exists (a missing key points at its parent).
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node !== undefined && node !== null && typeof node === 'object' && node.range !== undefined) {
        const { line, col } = lineCounter.linePos(node.range[0]);
        return { line, column: col };
      }
    }
    return { line: 1, column: 1 };
  };
  const value: unknown = doc.toJS();
  const parsed = PipelineFileSchema.safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const { line, column } = at(path);
    const extra = issue.code === 'unrecognized_keys' ? `: ${issue.keys.join(', ')}` : '';
    throw new PipelineFileError(source, fieldName(path), line, column, `${issue.message}${extra}`);
  }
  const nodes = parsed.data.nodes.map((node, i): NodeSpec => {
    try {
      return fromSpec({ type: node.type, params: node.params ?? {} }).spec;
    } catch (e) {
      const error = e as RemoteMediaError & { field?: string };
      const inParams = error.code === 'INVALID_PARAMS' && typeof error.field === 'string' && error.field !== '';
      const path: (string | number)[] = inParams ? ['nodes', i, 'params', ...error.field!.split('.')] : ['nodes', i, 'type'];
      const { line, column } = at(path);
      throw new PipelineFileError(source, fieldName(path), line, column, error.message);
    }
  });
  const { remote: remoteSection, input } = parsed.data;
  return { source, nodes, ...(remoteSection && { remote: remoteSection }), chunkMs: input?.chunkMs ?? 20 };
}

/** Reads and validates a pipeline file (`.yaml`, `.yml` or `.json`). Rejects with {@link PipelineFileError} or `IO`. */
export async function loadPipelineFile(path: string): Promise<PipelineFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new RemoteMediaError('IO', `cannot read pipeline file ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parsePipelineFile(text, path);
}

/**
 * The pipeline as one operator: `remote(config, ...nodes)` when it has a `remote:` section (token from `token`),
 * else the nodes composed locally.
 */
export function pipelineOperator<I = unknown, O = unknown>(pipeline: PipelineFile, options: { token?: string | undefined } = {}): OperatorFunction<I, O> {
  if (pipeline.remote === undefined) return fromSpecs<I, O>(pipeline.nodes);
  const nodes: NodeOperator<unknown, unknown>[] = pipeline.nodes.map((spec) => fromSpec(spec));
  return remote<I, O>({ ...pipeline.remote, ...(options.token !== undefined && { token: options.token }) }, ...nodes);
}

function fieldName(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
