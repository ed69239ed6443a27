import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Llama } from 'node-llama-cpp';
import { MAX_STRING_LENGTH, toLlamaJsonSchema } from '../../src/llm/llama/llama-json-schema.ts';
import { loadNodeLlamaCpp } from '../../src/llm/llama/llama-module.ts';

const toJsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;

const TreeNode: z.ZodType<{ name: string; children: unknown[] }> = z.lazy(() =>
  z.object({ name: z.string(), children: z.array(TreeNode) }),
);

/** Schemas shaped like the ones persona-forge sends (critics, pairwise rankers, conversations). */
const SCHEMAS: Record<string, z.ZodType> = {
  filter: z.object({ rationale: z.string(), toxic: z.boolean(), confidence: z.number().min(0).max(1) }),
  pairwise: z.object({ rationale: z.string(), winner: z.enum(['A', 'B']) }),
  conversation: z.object({
    turns: z.array(z.object({ speaker: z.enum(['User 1', 'User 2']), text: z.string().min(1) })).min(2),
  }),
  awkward: z.object({
    email: z.email(),
    counts: z.record(z.string(), z.number()),
    pair: z.tuple([z.string(), z.number()]),
    either: z.union([z.string(), z.object({ a: z.literal(1) })]),
    maybe: z.string().nullable(),
    anything: z.unknown(),
    tree: TreeNode,
  }),
};

describe('toLlamaJsonSchema', () => {
  it('drops what the grammar cannot use and rewrites anyOf / nullable to oneOf', () => {
    expect(toLlamaJsonSchema(toJsonSchema(SCHEMAS.awkward))).toMatchObject({
      type: 'object',
      additionalProperties: false,
      properties: {
        email: { type: 'string' },
        counts: { type: 'object', additionalProperties: { type: 'number' } },
        pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], maxItems: 2 },
        either: { oneOf: [{ type: 'string' }, { type: 'object', properties: { a: { const: 1 } } }] },
        maybe: { type: ['string', 'null'] },
        tree: { $ref: '#/$defs/__schema0' },
      },
    });
    const converted = JSON.stringify(toLlamaJsonSchema(toJsonSchema(SCHEMAS.awkward)));
    for (const keyword of ['"pattern"', '"required"', '"$schema"', '"propertyNames"', '"anyOf"', '"format"']) {
      expect(converted).not.toContain(keyword);
    }
  });

  it('turns an unconstrained value into "any JSON" instead of the grammar default (null)', () => {
    const anything = toLlamaJsonSchema({});
    expect(anything.oneOf).toHaveLength(3);
    expect(toLlamaJsonSchema({ $ref: '#' })).toEqual(anything);
    expect(toLlamaJsonSchema(true)).toEqual(anything);
  });

  it('bounds every string, so a reply cannot run to the token limit inside one', () => {
    expect(toLlamaJsonSchema({ type: 'string' })).toEqual({ type: 'string', maxLength: MAX_STRING_LENGTH });
    expect(toLlamaJsonSchema({ type: 'string', maxLength: 20 })).toEqual({ type: 'string', maxLength: 20 });
  });

  it('enumerates small integer ranges so the grammar enforces the bounds', () => {
    expect(toLlamaJsonSchema({ type: 'integer', minimum: 1, maximum: 5 })).toEqual({ enum: [1, 2, 3, 4, 5] });
    expect(toLlamaJsonSchema({ type: 'integer', exclusiveMinimum: 0, exclusiveMaximum: 3 })).toEqual({ enum: [1, 2] });
    expect(toLlamaJsonSchema({ type: 'integer', minimum: 0 })).toEqual({ type: 'integer' });
    expect(toLlamaJsonSchema({ type: 'integer', minimum: 0, maximum: 10_000 })).toEqual({ type: 'integer' });
  });
});

describe('node-llama-cpp builds a grammar for every converted schema', () => {
  let llama: Llama;
  beforeAll(async () => {
    const nodeLlamaCpp = await loadNodeLlamaCpp();
    llama = await nodeLlamaCpp.getLlama({ gpu: false, build: 'never', maxThreads: 1 });
  });
  afterAll(async () => {
    await llama?.dispose();
  });

  for (const [name, schema] of Object.entries(SCHEMAS)) {
    it(name, async () => {
      const grammar = await llama.createGrammarForJsonSchema(toLlamaJsonSchema(toJsonSchema(schema)) as never);
      expect(grammar.grammar.length).toBeGreaterThan(0);
    });
  }
});
