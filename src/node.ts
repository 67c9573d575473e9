/**
 * The node model: a node is an RxJS operator that also carries a serializable spec.
 *
 * `defineNode(type, paramsSchema, factory)` registers a node type once and returns its builder. Calling the builder
 * validates the params with the zod schema and returns an `OperatorFunction` whose read-only `.spec` is
 * `{ type, params }`. `fromSpec(spec)` rebuilds the same operator from the registry, which is how an executor
 * runs a chain it received over the wire. Unknown types and invalid params throw before any data flows.
 *
 * @module
 */
import type { OperatorFunction } from 'rxjs';
import { pipe } from 'rxjs';
import { z } from 'zod';
import { InvalidParamsError, UnknownNodeError } from './errors.js';

/** What flows into or out of a node; used by `listNodes()` and by tools that check chains. */
export type NodeKind = 'audio' | 'text' | 'number' | 'json' | 'bytes' | 'any';

/** JSON-serializable params value, as it appears in a {@link NodeSpec}. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** The serializable description of a node instance: its registered type and validated params (defaults filled in). */
export interface NodeSpec {
  /** Registered node type, `family.name`, e.g. `'audio.audioBuffer'`. */
  readonly type: string;
  /** Validated params including defaults. */
  readonly params: Readonly<Record<string, unknown>>;
}

/** An RxJS operator built by a node builder: usable in any `pipe()`, and carrying its {@link NodeSpec}. */
export interface NodeOperator<I, O> extends OperatorFunction<I, O> {
  /** Read-only spec: enough to rebuild this operator with {@link fromSpec}. */
  readonly spec: NodeSpec;
}

/** Descriptive metadata of a node type, shown by {@link listNodes}. */
export interface NodeInfo {
  /** One-sentence description. Default: the params schema's `.describe()` text, or the type. */
  readonly description?: string;
  /** Kind of the items the node consumes. Default: `'any'`. */
  readonly input?: NodeKind;
  /** Kind of the items the node emits. Default: `'any'`. */
  readonly output?: NodeKind;
}

/** One entry of the node registry as listed by {@link listNodes}. */
export interface NodeDescriptor {
  readonly type: string;
  readonly description: string;
  readonly input: NodeKind;
  readonly output: NodeKind;
  /** JSON Schema (draft 2020-12) of the params, generated from the zod schema. */
  readonly paramsSchema: Readonly<Record<string, unknown>>;
}

/** A schema for a node's params: a zod object schema (`z.object({...})`). */
export type ParamsSchema = z.ZodType<Record<string, unknown>>;

/** The builder `defineNode` returns: validates params and returns a {@link NodeOperator}. */
export type NodeBuilder<S extends ParamsSchema, I, O> = Partial<z.input<S>> extends z.input<S>
  ? (params?: z.input<S>) => NodeOperator<I, O>
  : (params: z.input<S>) => NodeOperator<I, O>;

interface RegistryEntry {
  readonly descriptor: () => NodeDescriptor;
  /** Validates params (throws InvalidParamsError); no side effects. */
  readonly parse: (params: unknown) => Record<string, unknown>;
  /** Runs the factory on already-validated params. */
  readonly create: (parsed: Record<string, unknown>) => NodeOperator<unknown, unknown>;
}

const registry = new Map<string, RegistryEntry>();

const TYPE_PATTERN = /^[a-z][a-zA-Z0-9]*(\.[a-zA-Z][a-zA-Z0-9]*)+$/;

/** Validates `params` against `schema` for node `type`, throwing {@link InvalidParamsError} naming the first bad field. */
export function parseParams<S extends ParamsSchema>(type: string, schema: S, params: unknown): z.output<S> {
  const result = schema.safeParse(params ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue ? issue.path.map(String).join('.') : '';
  throw new InvalidParamsError(type, field, issue?.message ?? 'invalid', { cause: result.error });
}

/**
 * Registers a node type and returns its builder.
 *
 * @param type - Unique `family.name` type, e.g. `'audio.audioBuffer'`. Registering a type twice throws.
 * @param paramsSchema - zod object schema of the params; `.describe()` each field with its unit and default.
 * @param factory - Builds the operator from validated params. Called once per builder call; keep per-subscription
 *   state inside the operator (on subscribe), so one operator value can be subscribed many times.
 * @param info - Description and input/output kinds for {@link listNodes}. Default: kinds `'any'`.
 * @returns The node builder.
 * @example
 * ```ts
 * const gain = defineNode('audio.gain', z.object({ factor: z.number().default(1) }),
 *   ({ factor }) => map((f: AudioFrame) => ({ ...f, samples: f.samples.map((s) => s * factor) })),
 *   { description: 'Multiplies every sample', input: 'audio', output: 'audio' });
 * source$.pipe(gain({ factor: 0.5 }));
 * ```
 */
export function defineNode<S extends ParamsSchema, I, O>(
  type: string,
  paramsSchema: S,
  factory: (params: z.output<S>) => OperatorFunction<I, O>,
  info: NodeInfo = {},
): NodeBuilder<S, I, O> {
  if (!TYPE_PATTERN.test(type)) {
    throw new InvalidParamsError('defineNode', 'type', `'${type}' is not of the form family.name (e.g. 'audio.gain')`);
  }
  if (registry.has(type)) {
    throw new InvalidParamsError('defineNode', 'type', `node type '${type}' is already registered`);
  }
  const parse = (params: unknown): z.output<S> => parseParams(type, paramsSchema, params);
  const create = (parsed: z.output<S>): NodeOperator<I, O> => {
    // The spec gets its own deep-frozen copy: changing it can neither reach the running operator nor the reverse.
    const spec: NodeSpec = deepFreeze({ type, params: structuredClone(parsed) });
    const operator = factory(parsed);
    // A fresh function per builder call so that the spec property never leaks onto a shared operator.
    const node = ((source) => operator(source)) as OperatorFunction<I, O> & { spec: NodeSpec };
    Object.defineProperty(node, 'spec', { value: spec, enumerable: true, writable: false, configurable: false });
    return node;
  };
  const build = (params?: z.input<S>): NodeOperator<I, O> => create(parse(params));
  let descriptor: NodeDescriptor | undefined;
  registry.set(type, {
    parse,
    create: create as (parsed: Record<string, unknown>) => NodeOperator<unknown, unknown>,
    descriptor: () =>
      (descriptor ??= Object.freeze({
        type,
        description: info.description ?? paramsSchema.description ?? type,
        input: info.input ?? 'any',
        output: info.output ?? 'any',
        paramsSchema: z.toJSONSchema(paramsSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
      })),
  });
  return build as NodeBuilder<S, I, O>;
}

/** Lists every registered node type with its description, kinds and params JSON Schema, sorted by type. */
export function listNodes(): NodeDescriptor[] {
  return [...registry.keys()].sort().map((type) => registry.get(type)!.descriptor());
}

/** True when `type` is registered. */
export function hasNode(type: string): boolean {
  return registry.has(type);
}

/** Reads a value that should be a {@link NodeSpec}, throwing {@link InvalidParamsError} naming what is wrong. */
function checkSpec(spec: unknown, index?: number): NodeSpec {
  const where = index === undefined ? 'spec' : `specs[${index}]`;
  if (typeof spec !== 'object' || spec === null) throw new InvalidParamsError(where, '', 'a spec must be an object { type, params }');
  const { type, params } = spec as { type?: unknown; params?: unknown };
  if (typeof type !== 'string') throw new InvalidParamsError(where, 'type', 'must be a string');
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
    throw new InvalidParamsError(type, '', 'params must be an object');
  }
  return { type, params: (params ?? {}) as Record<string, unknown> };
}

/**
 * Rebuilds an operator from its spec using the registry.
 * @throws {@link UnknownNodeError} when the type is not registered; {@link InvalidParamsError} when params are bad.
 */
export function fromSpec<I = unknown, O = unknown>(spec: NodeSpec): NodeOperator<I, O> {
  const { type, params } = checkSpec(spec);
  const entry = entryFor(type);
  return entry.create(entry.parse(params)) as NodeOperator<I, O>;
}

function entryFor(type: string): RegistryEntry {
  const entry = registry.get(type);
  if (!entry) throw new UnknownNodeError(type, [...registry.keys()].sort());
  return entry;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/**
 * Rebuilds the operators of a chain from specs. Every spec is validated before any factory runs, so a bad spec late
 * in the list allocates nothing.
 * @throws {@link UnknownNodeError} / {@link InvalidParamsError} for the first bad spec (its index is in the message).
 */
export function operatorsFromSpecs(specs: readonly NodeSpec[]): NodeOperator<unknown, unknown>[] {
  const validated = specs.map((spec, i) => {
    const { type, params } = checkSpec(spec, i);
    const entry = entryFor(type);
    return { entry, parsed: entry.parse(params) };
  });
  return validated.map(({ entry, parsed }) => entry.create(parsed));
}

/**
 * Rebuilds a chain of operators from specs and composes them with `pipe()`; an empty list gives the identity.
 * Every spec is validated before any operator is built, so a bad chain fails as a whole.
 */
export function fromSpecs<I = unknown, O = unknown>(specs: readonly NodeSpec[]): OperatorFunction<I, O> {
  const operators = operatorsFromSpecs(specs);
  return (source) => (pipe as (...fns: OperatorFunction<unknown, unknown>[]) => OperatorFunction<unknown, unknown>)(...operators)(source) as ReturnType<OperatorFunction<I, O>>;
}

/** True when `value` is a node operator (has a `.spec`), i.e. something that can be sent to an executor. */
export function isNodeOperator(value: unknown): value is NodeOperator<unknown, unknown> {
  return typeof value === 'function' && typeof (value as { spec?: unknown }).spec === 'object' && (value as { spec?: unknown }).spec !== null;
}
