/**
 * Renders docs/NODES.md from the node registry (`listNodes()`), so the reference never drifts from the zod schemas.
 *   npx tsx scripts/nodeDocs.ts          rewrite docs/NODES.md
 * test/docs.spec.ts fails when the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NodeDescriptor } from '../src/node.js';

interface JsonSchemaProperty {
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  readonly description?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly anyOf?: readonly JsonSchemaProperty[];
  readonly items?: JsonSchemaProperty;
}

function typeOf(p: JsonSchemaProperty): string {
  if (p.enum) return p.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (p.anyOf) return p.anyOf.map(typeOf).join(' | ');
  if (p.type === 'array') return `${p.items ? typeOf(p.items) : 'unknown'}[]`;
  const base = typeof p.type === 'string' ? p.type : (p.type?.join(' | ') ?? 'any');
  const range: string[] = [];
  if (p.exclusiveMinimum !== undefined) range.push(`> ${p.exclusiveMinimum}`);
  if (p.minimum !== undefined) range.push(`≥ ${p.minimum}`);
  if (p.maximum !== undefined) range.push(`≤ ${p.maximum}`);
  return range.length > 0 ? `${base} (${range.join(', ')})` : base;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Markdown reference of every node: description, kinds, and a params table (type, required, default, description). */
export function renderNodeDocs(nodes: readonly NodeDescriptor[]): string {
  const out: string[] = [
    '# Node reference',
    '',
    'Generated from the node registry by `npx tsx scripts/nodeDocs.ts`; do not edit by hand (a test checks it is current).',
    'Units: time in ms unless a name says otherwise, `pts` in µs, sample rates in Hz.',
    '',
  ];
  for (const node of nodes) {
    out.push(`## \`${node.type}\``, '', node.description, '', `Input: ${node.input} → output: ${node.output}`, '');
    const schema = node.paramsSchema as { properties?: Record<string, JsonSchemaProperty>; required?: readonly string[] };
    const properties = Object.entries(schema.properties ?? {});
    if (properties.length === 0) {
      out.push('No params.', '');
      continue;
    }
    out.push('| param | type | required | default | description |', '|---|---|---|---|---|');
    for (const [name, p] of properties) {
      const required = (schema.required ?? []).includes(name) && p.default === undefined ? 'yes' : 'no';
      const def = p.default === undefined ? '' : `\`${JSON.stringify(p.default)}\``;
      out.push(`| \`${name}\` | ${cell(typeOf(p))} | ${required} | ${def} | ${cell(p.description ?? '')} |`);
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Where the reference lives. */
export const NODES_DOC = fileURLToPath(new URL('../docs/NODES.md', import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await import('../src/index.js');
  const { listNodes } = await import('../src/node.js');
  writeFileSync(NODES_DOC, renderNodeDocs(listNodes()));
  console.log(`wrote ${NODES_DOC} (${listNodes().length} nodes)`);
}
