/** Declared pipeline files: valid YAML/JSON loads to node specs; every error names file, line, column and field. */
import { lastValueFrom, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { parsePipelineFile, pipelineOperator, PipelineFileError } from '../../src/pipelineFile.js';

function errorOf(text: string): PipelineFileError {
  try {
    parsePipelineFile(text, 'p.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(PipelineFileError);
    return e as PipelineFileError;
  }
  throw new Error('expected a PipelineFileError');
}

describe('pipeline files', () => {
  it('loads YAML with defaults filled in, and JSON', () => {
    const yaml = parsePipelineFile('nodes:\n  - type: core.calculator\n    params: { operation: add, operand: 2 }\n  - type: core.passThrough\n', 'p.yaml');
    expect(yaml.nodes.map((n) => n.type)).toEqual(['core.calculator', 'core.passThrough']);
    expect(yaml.nodes[0]!.params).toMatchObject({ operation: 'add', operand: 2 });
    expect(yaml.remote).toBeUndefined();
    expect(yaml.chunkMs).toBe(20);
    const json = parsePipelineFile(JSON.stringify({ remote: { address: '127.0.0.1:1', window: 8 }, input: { chunkMs: 30 }, nodes: [{ type: 'core.passThrough' }] }), 'p.json');
    expect(json.remote).toEqual({ address: '127.0.0.1:1', window: 8 });
    expect(json.chunkMs).toBe(30);
  });

  it('runs locally as one operator', async () => {
    const pipeline = parsePipelineFile('nodes:\n  - type: core.calculator\n    params: { operation: multiply, operand: 3 }\n');
    expect(await lastValueFrom(of(1, 2).pipe(pipelineOperator<number, number>(pipeline), toArray()))).toEqual([3, 6]);
  });

  it('an unknown node type names its line and field', () => {
    const e = errorOf('nodes:\n  - type: core.passThrough\n  - type: audio.nope\n');
    expect(e).toMatchObject({ code: 'INVALID_PARAMS', field: 'nodes[1].type', line: 3, column: 11 });
    expect(e.message).toMatch(/^p\.yaml:3:11: nodes\[1\]\.type: unknown node type 'audio\.nope'/);
  });

  it('invalid params name the param line and field', () => {
    const e = errorOf('nodes:\n  - type: core.calculator\n    params:\n      operation: add\n      operand: "two"\n');
    expect(e).toMatchObject({ field: 'nodes[0].params.operand', line: 5, column: 16 });
    expect(e.message).toContain("core.calculator: invalid params field 'operand'");
  });

  it('schema errors: missing nodes, unknown keys, a bad remote section', () => {
    expect(errorOf('remote: { address: "a:1" }\n')).toMatchObject({ field: 'nodes', line: 1 });
    const unknown = errorOf('nodes:\n  - type: core.passThrough\nremtoe: {}\n');
    expect(unknown.message).toContain('remtoe');
    expect(errorOf('nodes:\n  - type: core.passThrough\nremote:\n  window: 0\n  address: a:1\n')).toMatchObject({ field: 'remote.window', line: 4, column: 11 });
    expect(errorOf('nodes:\n  - type: core.passThrough\nremote:\n  window: 4\n')).toMatchObject({ field: 'remote.address' });
    expect(errorOf('nodes: []\n')).toMatchObject({ field: 'nodes', line: 1, column: 8 });
  });

  it('YAML syntax errors give the line', () => {
    const e = errorOf('nodes:\n  - type: core.passThrough\n    params: { a: 1\n');
    expect(e.field).toBe('');
    expect(e.line).toBeGreaterThanOrEqual(3);
    expect(e.message).toMatch(/^p\.yaml:\d+:\d+: not valid YAML\/JSON/);
  });
});
