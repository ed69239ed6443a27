import { describe, expect, it } from 'vitest';
import { CachingEmbedder } from '../../src/llm/embedders/caching-embedder.ts';
import { createEmbedder } from '../../src/llm/embedders/create-embedder.ts';
import { cosineSimilarity, type Embedder } from '../../src/llm/embedders/embedder.ts';
import { ConfigError } from '../../src/errors.ts';
import { LexicalEmbedder, lexicalTokens } from '../../src/llm/embedders/lexical-embedder.ts';
import { EmbedderConfigSchema } from '../../src/schemas/personas-config.ts';

describe('LexicalEmbedder', () => {
  it('gives the same vectors for the same inputs, unit length', async () => {
    const texts = ['I have two dogs.', 'My dog is a beagle.', 'I work as a nurse.'];
    const first = await new LexicalEmbedder().embed(texts);
    const second = await new LexicalEmbedder().embed(texts);
    expect(first).toEqual(second);
    expect(first[0]).toHaveLength(2048);
    for (const vector of first) expect(Math.hypot(...vector)).toBeCloseTo(1, 10);
  });

  it('scores shared content words high and unrelated sentences near zero', async () => {
    const embedder = new LexicalEmbedder();
    const [dogs, dog, nurse, dogsAgain] = await embedder.embed([
      'I have two dogs.',
      'I really love my dog.',
      'I work night shifts as a nurse.',
      'I have two big dogs!',
    ]);
    expect(cosineSimilarity(dogs, dogsAgain)).toBeGreaterThan(0.6);
    expect(cosineSimilarity(dogs, dog)).toBeGreaterThan(0.3);
    expect(Math.abs(cosineSimilarity(dogs, nurse))).toBeLessThan(0.1);
  });

  it('keeps the IDF of its first call so later vectors stay comparable', async () => {
    const embedder = new LexicalEmbedder();
    const [before] = await embedder.embed(['I love hiking in the mountains.', 'I love cats.']);
    await embedder.embed(['completely different words here']);
    const [after] = await embedder.embed(['I love hiking in the mountains.']);
    expect(after).toEqual(before);
  });

  it('drops stopwords and folds plurals', () => {
    expect(lexicalTokens("I'm a big fan of the puppies and my dogs")).toEqual(['big', 'fan', 'puppy', 'dog']);
  });

  it('gives an all-zero vector for a sentence without content words', async () => {
    const [vector] = await new LexicalEmbedder({ dimensions: 64 }).embed(['I am.']);
    expect(vector.every((value) => value === 0)).toBe(true);
  });
});

describe('CachingEmbedder', () => {
  it('embeds each distinct text once and keeps input order', async () => {
    const calls: string[][] = [];
    const inner: Embedder = {
      kind: 'counting',
      embed: async (texts) => {
        calls.push([...texts]);
        return texts.map((text) => [text.length, 1]);
      },
      dispose: async () => {},
    };
    const cached = new CachingEmbedder(inner);
    expect(await cached.embed(['aa', 'b', 'aa'])).toEqual([
      [2, 1],
      [1, 1],
      [2, 1],
    ]);
    expect(await cached.embed(['b', 'ccc'])).toEqual([
      [1, 1],
      [3, 1],
    ]);
    expect(calls).toEqual([['aa', 'b'], ['ccc']]);
    expect(cached.kind).toBe('counting');
  });
});

describe('createEmbedder', () => {
  it('defaults to the lexical embedder', async () => {
    const embedder = await createEmbedder(EmbedderConfigSchema.parse({}));
    expect(embedder.kind).toBe('lexical');
  });

  it('needs a base URL for openai and a model path for local', async () => {
    await expect(createEmbedder(EmbedderConfigSchema.parse({ kind: 'openai' }))).rejects.toThrow(ConfigError);
    await expect(createEmbedder(EmbedderConfigSchema.parse({ kind: 'openai' }))).rejects.toThrow(
      'personas.embedder.base_url: the openai embedder needs a base URL (or set llm.base_url / --base-url)',
    );
    await expect(createEmbedder(EmbedderConfigSchema.parse({ kind: 'local' }))).rejects.toThrow(
      'personas.embedder.model: the local embedder needs the path of a GGUF embedding model',
    );
    const openai = await createEmbedder(EmbedderConfigSchema.parse({ kind: 'openai', model: 'e5' }), {
      baseUrl: 'http://127.0.0.1:9/v1',
    });
    expect(openai.kind).toBe('openai:e5');
  });
});
