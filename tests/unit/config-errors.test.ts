import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../src/config/load-run-config.ts';
import { closestName } from '../../src/config/closest-name.ts';
import { diffConfigs, formatChange } from '../../src/config/diff-configs.ts';
import { boundsOf, integerFlag } from '../../src/cli/parse-flag.ts';
import { RunConfigSchema } from '../../src/schemas/run-config.ts';

const problemsOf = (raw: unknown): string[] => {
  try {
    parseRunConfig(raw);
  } catch (error) {
    return (error as { problems: string[] }).problems;
  }
  throw new Error('expected a ConfigError');
};

describe('unknown config keys', () => {
  it('suggest the closest key at their own level, however deep', () => {
    const problems = problemsOf({
      pairz: 5,
      llm: { modle: 'x' },
      personas: { embedder: { kidn: 'lexical' } },
      budget: { max_token: 5 },
    });
    expect(problems).toHaveLength(4);
    expect(problems).toEqual(
      expect.arrayContaining([
        'pairz: unknown key; did you mean "pairs"?',
        'llm.modle: unknown key; did you mean "model"?',
        'personas.embedder.kidn: unknown key; did you mean "kind"?',
        'budget.max_token: unknown key; did you mean "max_tokens"?',
      ]),
    );
  });

  it('list the allowed keys when nothing is close', () => {
    const [problem] = problemsOf({ generation: { zzzzzzzz: 1 } });
    expect(problem).toMatch(/^generation\.zzzzzzzz: unknown key; remove it \(keys allowed here: template, few_shot, /);
  });

  it('closestName takes a typo, not an unrelated word', () => {
    expect(closestName('canidates', ['candidates', 'concurrency'])).toBe('candidates');
    expect(closestName('seeed', ['seed', 'seeds'])).toBe('seed');
    expect(closestName('colour', ['pairs', 'seed'])).toBeUndefined();
  });
});

describe('numeric bounds', () => {
  it('come from the schema and refuse what is not plain digits within them', () => {
    expect(boundsOf(RunConfigSchema.shape.pairs)).toEqual({ min: 1, max: 1_000_000 });
    expect(boundsOf(RunConfigSchema.shape.seed)).toEqual({ min: 0, max: 4_294_967_295 });
    const pairs = integerFlag(boundsOf(RunConfigSchema.shape.pairs));
    expect(pairs('1000')).toBe(1000);
    for (const bad of ['1e3', '0x10', '1_000', '+5', '2.0', ' 7', '0', '99999999999']) {
      expect(() => pairs(bad)).toThrow(`Expected an integer from 1 to 1000000, got "${bad}".`);
    }
    expect(problemsOf({ pairs: 99_999_999_999 })).toEqual(['pairs: Too big: expected number to be <=1000000']);
  });
});

describe('diffConfigs', () => {
  it('names every changed leaf, treating an absent section as empty', () => {
    const changes = diffConfigs(
      { candidates: 4, budget: {}, llm: { model: 'a' } },
      { candidates: 2, budget: { max_tokens: 9 }, llm: { model: 'a' } },
    );
    expect(changes.map((change) => formatChange(change))).toEqual([
      'budget.max_tokens (unset) → 9',
      'candidates 4 → 2',
    ]);
  });
});
