import { isAbsolute } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultSeedPaths, loadSeedAttributes } from '../../src/personas/load-seed-attributes.ts';
import { loadSeedConversations } from '../../src/personas/load-seed-conversations.ts';
import { isNearDuplicate } from '../../src/personas/is-near-duplicate.ts';
import { AttributeSchema, PoolRecordSchema } from '../../src/schemas/index.ts';

const paths = defaultSeedPaths();
const normalize = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();

describe('built-in seed attributes', () => {
  it('resolves to absolute paths of the shipped files', () => {
    expect(isAbsolute(paths.attributes)).toBe(true);
    expect(paths.attributes.endsWith('seeds/attributes.jsonl')).toBe(true);
    expect(paths.conversations.endsWith('seeds/conversations.jsonl')).toBe(true);
  });

  it('has at least 300 attributes over at least 30 categories, each valid and unique', async () => {
    const attributes = await loadSeedAttributes(paths.attributes);
    expect(attributes.length).toBeGreaterThanOrEqual(300);
    expect(new Set(attributes.map((attribute) => attribute.category)).size).toBeGreaterThanOrEqual(30);
    expect(new Set(attributes.map((attribute) => attribute.id)).size).toBe(attributes.length);
    expect(new Set(attributes.map((attribute) => normalize(attribute.text))).size).toBe(attributes.length);
    for (const attribute of attributes) {
      expect(AttributeSchema.parse(attribute)).toEqual(attribute);
      expect(attribute.text).toMatch(/^(I|My) /);
    }
  });

  it('has no two attributes that are near-duplicates at the default threshold', async () => {
    const attributes = await loadSeedAttributes(paths.attributes);
    const duplicates: string[] = [];
    for (let i = 0; i < attributes.length; i++) {
      for (let j = i + 1; j < attributes.length; j++) {
        if (isNearDuplicate(attributes[i].text, attributes[j].text, 0.6)) {
          duplicates.push(`${attributes[i].id} ~ ${attributes[j].id}`);
        }
      }
    }
    expect(duplicates).toEqual([]);
  });
});

describe('built-in seed conversations', () => {
  it('has at least 8 conversations of 12 to 30 alternating utterances starting with User 1', async () => {
    const records = await loadSeedConversations(paths.conversations);
    expect(records.length).toBeGreaterThanOrEqual(8);
    for (const record of records) {
      expect(PoolRecordSchema.parse(record)).toEqual(record);
      expect(record).toMatchObject({ source: 'seed', iteration: 0, score: 0 });
      expect(record.user1_persona).toHaveLength(5);
      expect(record.user2_persona).toHaveLength(5);
      expect(record.turns.length).toBeGreaterThanOrEqual(12);
      expect(record.turns.length).toBeLessThanOrEqual(30);
      record.turns.forEach((turn, index) => {
        expect(turn.speaker).toBe(index % 2 === 0 ? 'User 1' : 'User 2');
      });
    }
  });

  it('uses seed attributes as personas but never copies an attribute verbatim into an utterance', async () => {
    const attributes = await loadSeedAttributes(paths.attributes);
    const records = await loadSeedConversations(paths.conversations);
    const attributeTexts = new Set(attributes.map((attribute) => attribute.text));
    const copies: string[] = [];
    for (const record of records) {
      for (const text of [...record.user1_persona, ...record.user2_persona]) {
        expect(attributeTexts.has(text)).toBe(true);
      }
      for (const turn of record.turns) {
        for (const attribute of attributeTexts) {
          if (normalize(turn.text).includes(normalize(attribute))) copies.push(`${record.id}: ${attribute}`);
        }
      }
    }
    expect(copies).toEqual([]);
  });

  it('has no [name]-style placeholders', async () => {
    const records = await loadSeedConversations(paths.conversations);
    for (const record of records) {
      for (const turn of record.turns) expect(turn.text).not.toMatch(/[[\]{}<>]/);
    }
  });
});
