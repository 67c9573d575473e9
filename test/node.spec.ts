import { describe, expect, expectTypeOf, it } from 'vitest';
import { map, type Observable, of, type OperatorFunction } from 'rxjs';
import { z } from 'zod';
import { InvalidParamsError, UnknownNodeError } from '../src/errors.js';
import { defineNode, fromSpec, fromSpecs, hasNode, isNodeOperator, listNodes, parseParams, type NodeKind, type NodeOperator, type NodeSpec } from '../src/node.js';
import * as operators from '../src/operators/index.js';
import { batch, calculator, passThrough, textTransform } from '../src/operators/index.js';
import { marbleTest, type RunHelpers } from '../src/testing/index.js';

const run = (body: (helpers: RunHelpers) => void): void => marbleTest(body, (a, e) => expect(a).toEqual(e));

/** The error `fn` throws (fails when it throws nothing). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

function invalidField(fn: () => unknown): string {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(InvalidParamsError);
  expect((error as InvalidParamsError).code).toBe('INVALID_PARAMS');
  return (error as InvalidParamsError).field;
}

const ScaleSchema = z
  .object({
    factor: z.number().default(2).describe('Multiplier. Default: 2'),
    label: z.string().optional().describe('Free text. Default: none'),
    limits: z
      .object({ min: z.number().default(-100), max: z.number().int().default(100) })
      .default({ min: -100, max: 100 })
      .describe('Clamp range. Default: [-100, 100]'),
    tags: z.array(z.string()).default([]).describe('Tags. Default: []'),
  })
  .describe('Multiplies and clamps numbers');

let scaleFactoryCalls = 0;
const scale = defineNode(
  'test.scale',
  ScaleSchema,
  ({ factor, limits }) => {
    scaleFactoryCalls++;
    return map((x: number) => Math.min(limits.max, Math.max(limits.min, x * factor)));
  },
  { description: 'Multiplies and clamps', input: 'number', output: 'number' },
);

const requiredOnly = defineNode('test.requiredOnly', z.object({ n: z.number() }), ({ n }) => map((x: number) => x + n));

describe('node model', () => {
  describe('builder', () => {
    it('returns an operator carrying a frozen spec with defaults filled in', () => {
      const node = scale();
      expect(node.spec).toEqual({ type: 'test.scale', params: { factor: 2, limits: { min: -100, max: 100 }, tags: [] } });
      expect(Object.isFrozen(node.spec)).toBe(true);
      expect(Object.isFrozen(node.spec.params)).toBe(true);
      expect(() => ((node as { spec: NodeSpec }).spec = { type: 'x', params: {} })).toThrow(TypeError);
      expect(() => ((node.spec as { type: string }).type = 'x')).toThrow(TypeError);
      expect(() => ((node.spec.params as Record<string, unknown>)['factor'] = 5)).toThrow(TypeError);
      expect(node.spec.type).toBe('test.scale');
    });

    it('keeps given params and fills only the missing ones', () => {
      expect(scale({ factor: 3, limits: { min: 0 } }).spec.params).toEqual({ factor: 3, limits: { min: 0, max: 100 }, tags: [] });
    });

    it('returns a usable RxJS operator', () => {
      run(({ cold, expectObservable }) => {
        expectObservable(cold('-a-b|', { a: 1, b: 80 }).pipe(scale())).toBe('-x-y|', { x: 2, y: 100 });
      });
    });

    it('returns a fresh operator per call, so a spec never leaks onto another node', () => {
      const a = scale({ factor: 1 });
      const b = scale({ factor: 5 });
      expect(a).not.toBe(b);
      expect(a.spec.params['factor']).toBe(1);
      expect(b.spec.params['factor']).toBe(5);
    });

    it('makes params optional only when every field has a default', () => {
      expectTypeOf(scale).toBeCallableWith();
      expectTypeOf(requiredOnly).parameter(0).toEqualTypeOf<{ n: number }>();
      expectTypeOf(scale()).toEqualTypeOf<NodeOperator<number, number>>();
    });

    // Regression: the spec was frozen one level deep only and shared nested objects with the factory's params.
    it('nested spec params cannot be changed', () => {
      const node = scale();
      try {
        (node.spec.params['limits'] as { max: number }).max = 1;
      } catch {
        // A frozen spec rejects the write: what we want.
      }
      expect(node.spec.params['limits']).toEqual({ min: -100, max: 100 });
      run(({ cold, expectObservable }) => {
        expectObservable(cold('-a|', { a: 10 }).pipe(node)).toBe('-x|', { x: 20 });
      });
    });
  });

  describe('invalid params', () => {
    it('throws InvalidParamsError naming the field, before any data flows', () => {
      expect(invalidField(() => scale({ factor: 'big' as unknown as number }))).toBe('factor');
      expect(invalidField(() => (requiredOnly as (p?: unknown) => unknown)())).toBe('n');
      const error = thrown(() => scale({ factor: 'big' as unknown as number })) as InvalidParamsError;
      expect(error.node).toBe('test.scale');
      expect(error.message).toMatch(/^test\.scale: invalid params field 'factor': /);
    });

    it('names nested paths with dots, array items by index', () => {
      expect(invalidField(() => scale({ limits: { max: 1.5 } }))).toBe('limits.max');
      expect(invalidField(() => scale({ tags: ['ok', 3 as unknown as string] }))).toBe('tags.1');
    });

    it('names no field when the params value itself is wrong', () => {
      expect(invalidField(() => (scale as (p: unknown) => unknown)(42))).toBe('');
    });

    it('parseParams validates like the builder', () => {
      expect(parseParams('test.scale', ScaleSchema, { factor: 4 })).toEqual({ factor: 4, limits: { min: -100, max: 100 }, tags: [] });
      expect(invalidField(() => parseParams('test.scale', ScaleSchema, { limits: { min: 'x' } }))).toBe('limits.min');
    });
  });

  describe('fromSpec / fromSpecs', () => {
    it('fromSpec rebuilds a node whose output equals the original', () => {
      const original = scale({ factor: 3, limits: { min: -5, max: 5 } });
      const rebuilt = fromSpec<number, number>(JSON.parse(JSON.stringify(original.spec)) as NodeSpec);
      expect(rebuilt.spec).toEqual(original.spec);
      run(({ cold, expectObservable }) => {
        const values = { a: 1, b: -4, c: 2 };
        expectObservable(cold('-a-b-c|', values).pipe(rebuilt)).toBe('-x-y-z|', { x: 3, y: -5, z: 5 });
        expectObservable(cold('-a-b-c|', values).pipe(original)).toBe('-x-y-z|', { x: 3, y: -5, z: 5 });
      });
    });

    it('fromSpecs rebuilds a chain of built-in nodes whose output equals the original chain', () => {
      const chain = [calculator({ operation: 'multiply', operand: 2 }), passThrough<number>(), batch<number>({ size: 2 })] as const;
      const specs = JSON.parse(JSON.stringify(chain.map((n) => n.spec))) as NodeSpec[];
      run(({ cold, expectObservable }) => {
        const source = cold('-a-b-c|', { a: 1, b: 2, c: 3 });
        const expected = { x: [2, 4], y: [6] };
        expectObservable(source.pipe(chain[0], chain[1], chain[2])).toBe('---x--(y|)', expected);
        expectObservable(source.pipe(fromSpecs<number, number[]>(specs))).toBe('---x--(y|)', expected);
      });
    });

    it('fromSpecs([]) is the identity', () => {
      const source$ = of(1, 2);
      run(({ cold, expectObservable }) => {
        expectObservable(cold('-a-b|').pipe(fromSpecs([]))).toBe('-a-b|');
      });
      expect(fromSpecs([])(source$)).toBe(source$);
    });

    it('unknown type throws UnknownNodeError listing the registered types', () => {
      const error = thrown(() => fromSpec({ type: 'audio.nope', params: {} }));
      expect(error).toBeInstanceOf(UnknownNodeError);
      expect((error as UnknownNodeError).code).toBe('UNKNOWN_NODE');
      expect((error as UnknownNodeError).node).toBe('audio.nope');
      for (const type of ['core.calculator', 'test.scale', 'text.textTransform']) expect((error as Error).message).toContain(type);
    });

    it('bad params in a spec throw InvalidParamsError naming the field', () => {
      expect(invalidField(() => fromSpec({ type: 'core.calculator', params: { operation: 'add', operand: 'x' } }))).toBe('operand');
      expect(invalidField(() => fromSpec({ type: 'test.scale', params: { limits: { max: 0.5 } } }))).toBe('limits.max');
    });

    it('rejects values that are not specs, naming what is wrong', () => {
      expect(invalidField(() => fromSpec(null as unknown as NodeSpec))).toBe('');
      expect(invalidField(() => fromSpec({ type: 7 } as unknown as NodeSpec))).toBe('type');
      expect(invalidField(() => fromSpec({ type: 'test.scale', params: [] } as unknown as NodeSpec))).toBe('');
      expect(invalidField(() => fromSpecs([{ type: 'test.scale', params: {} }, { params: {} } as unknown as NodeSpec]))).toBe('type');
    });

    it('a spec without params uses the defaults', () => {
      expect(fromSpec({ type: 'test.scale' } as NodeSpec).spec.params).toEqual(scale().spec.params);
    });

    it('fromSpecs fails as a whole when any spec is bad', () => {
      const good: NodeSpec = { type: 'test.scale', params: {} };
      expect(() => fromSpecs([good, { type: 'audio.nope', params: {} }])).toThrow(UnknownNodeError);
      expect(invalidField(() => fromSpecs([good, good, { type: 'test.scale', params: { factor: 'x' } }]))).toBe('factor');
    });

    // Regression: fromSpecs ran the factories of the specs before a bad one; one that allocates would leak.
    it('fromSpecs validates every spec before calling any factory', () => {
      const before = scaleFactoryCalls;
      expect(() => fromSpecs([{ type: 'test.scale', params: {} }, { type: 'audio.nope', params: {} }])).toThrow(UnknownNodeError);
      expect(scaleFactoryCalls).toBe(before);
    });
  });

  describe('registry', () => {
    it('defineNode throws on a duplicate type', () => {
      const error = thrown(() => defineNode('test.scale', z.object({}), () => map((x: unknown) => x)));
      expect(error).toBeInstanceOf(InvalidParamsError);
      expect((error as InvalidParamsError).field).toBe('type');
      expect((error as Error).message).toContain("'test.scale' is already registered");
      expect(() => defineNode('core.calculator', z.object({}), () => map((x: unknown) => x))).toThrow(InvalidParamsError);
    });

    it.each(['scale', 'Test.scale', 'test.', '.scale', 'test scale', 'test.sc-ale', '1test.scale', 'test..scale', ''])(
      'defineNode rejects the type name %j',
      (type) => {
        expect(invalidField(() => defineNode(type, z.object({}), () => map((x: unknown) => x)))).toBe('type');
        expect(hasNode(type)).toBe(false);
      },
    );

    it('hasNode and isNodeOperator tell registered nodes from plain operators', () => {
      expect(hasNode('test.scale')).toBe(true);
      expect(hasNode('test.missing')).toBe(false);
      expect(isNodeOperator(scale())).toBe(true);
      expect(isNodeOperator(map((x: number) => x))).toBe(false);
      expect(isNodeOperator({ spec: { type: 'test.scale', params: {} } })).toBe(false);
    });

    it('listNodes describes a user node from its info and schema', () => {
      const entry = listNodes().find((n) => n.type === 'test.scale');
      expect(entry).toMatchObject({ type: 'test.scale', description: 'Multiplies and clamps', input: 'number', output: 'number' });
      expect(entry?.paramsSchema).toMatchObject({
        type: 'object',
        properties: { factor: { type: 'number', default: 2, description: 'Multiplier. Default: 2' } },
      });
      // Input-side schema: fields with defaults are optional.
      expect(entry?.paramsSchema['required'] ?? []).toEqual([]);
      const bare = listNodes().find((n) => n.type === 'test.requiredOnly');
      expect(bare).toMatchObject({ description: 'test.requiredOnly', input: 'any', output: 'any' });
      expect(bare?.paramsSchema['required']).toEqual(['n']);
    });

    it('listNodes is sorted by type', () => {
      const types = listNodes().map((n) => n.type);
      expect(types).toEqual([...types].sort());
    });

    it('listNodes has type, description, kinds and a JSON Schema for every built-in node', () => {
      const kinds: readonly NodeKind[] = ['audio', 'text', 'number', 'json', 'bytes', 'any'];
      const builders = Object.entries(operators).filter(([, value]) => typeof value === 'function');
      expect(builders.length).toBeGreaterThanOrEqual(4);
      const nodes = listNodes();
      for (const [name] of builders) {
        const entry = nodes.find((n) => n.type.endsWith(`.${name}`));
        expect(entry, `built-in '${name}' is not in listNodes()`).toBeDefined();
        expect(entry!.type).toMatch(/^(core|audio|text|ml)\.[a-zA-Z0-9]+$/);
        expect(entry!.description.length).toBeGreaterThan(0);
        expect(entry!.description).not.toBe(entry!.type);
        expect(kinds).toContain(entry!.input);
        expect(kinds).toContain(entry!.output);
        expect(entry!.paramsSchema).toMatchObject({ type: 'object' });
        expect(() => JSON.stringify(entry!.paramsSchema)).not.toThrow();
      }
    });

    it('listNodes shows the built-ins params as JSON Schema', () => {
      const byType = new Map(listNodes().map((n) => [n.type, n]));
      expect(byType.get('core.calculator')?.paramsSchema).toMatchObject({
        properties: { operation: { enum: ['add', 'subtract', 'multiply', 'divide', 'power', 'modulo'] }, operand: { type: 'number' } },
        required: ['operation', 'operand'],
      });
      expect(byType.get('core.batch')?.paramsSchema).toMatchObject({ properties: { size: { type: 'integer', exclusiveMinimum: 0 } }, required: ['size'] });
      expect(byType.get('core.passThrough')?.paramsSchema).toMatchObject({ type: 'object', properties: {} });
      expect(byType.get('text.textTransform')).toMatchObject({ input: 'text', paramsSchema: { required: ['operation'] } });
    });
  });

  it('node operators compose with plain operators in pipe()', () => {
    const chain: OperatorFunction<string, number> = (source) => source.pipe(textTransform({ operation: 'char_count' }), map((n) => n * 10));
    run(({ cold, expectObservable }) => {
      expectObservable(cold('-a|', { a: 'abc' }).pipe(chain)).toBe('-x|', { x: 30 });
    });
    expectTypeOf(of('a').pipe(chain)).toEqualTypeOf<Observable<number>>();
  });
});
