import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '../src/index.js';
import { listNodes } from '../src/node.js';
import { NODES_DOC, renderNodeDocs } from '../scripts/nodeDocs.js';

describe('docs/NODES.md', () => {
  it('is generated from the current registry (run `npx tsx scripts/nodeDocs.ts` when this fails)', () => {
    expect(readFileSync(NODES_DOC, 'utf8')).toBe(renderNodeDocs(listNodes()));
  });

  it('documents every param with a description that states its default or that it is required', () => {
    for (const node of listNodes()) {
      const props = (node.paramsSchema as { properties?: Record<string, { description?: string }> }).properties ?? {};
      for (const [name, p] of Object.entries(props)) {
        expect(p.description, `${node.type}.${name}`).toMatch(/Default|Required/i);
      }
    }
  });
});
