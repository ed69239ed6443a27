import { describe, expect, it } from 'vitest';
import { lintConversation, LINT_CHECKS, type LintInput } from '../../src/critique/lint-conversation.ts';
import { findDegenerateRepetition } from '../../src/critique/find-degenerate-repetition.ts';
import type { Turn } from '../../src/schemas/turn.ts';

const user1Persona = ['I have two dogs and a cat.', 'I work as a nurse.', 'I love hiking in the mountains.'];
const user2Persona = ['I play the guitar in a band.', 'My favorite food is sushi.'];

function alternate(texts: string[]): Turn[] {
  return texts.map((text, index) => ({ speaker: index % 2 === 0 ? 'User 1' : 'User 2', text }));
}

const goodTexts = [
  'Hi! Long shift at the hospital today, I am exhausted.',
  'Oh no, that sounds rough. Do you get a day off soon?',
  'Saturday, finally. I want to take my pups up a trail.',
  'Nice. I will be rehearsing with my band all weekend.',
  'What kind of music do you play?',
  'Mostly indie rock. Then we celebrate with a big plate of rolls.',
];

function lint(overrides: Partial<LintInput> = {}, options = { minTurns: 4, maxTurns: 10 }) {
  const turns = overrides.turns ?? alternate(goodTexts);
  const input: LintInput = { turns, rawText: 'raw', user1Persona, user2Persona, ...overrides };
  const verdicts = lintConversation(input, options);
  return { verdicts, byName: Object.fromEntries(verdicts.map((verdict) => [verdict.critic, verdict])) };
}

describe('lintConversation', () => {
  it('returns every check, passed, as lint verdicts with confidence 1 for a clean conversation', () => {
    const { verdicts } = lint();
    expect(verdicts.map((verdict) => verdict.critic)).toEqual([...LINT_CHECKS]);
    for (const verdict of verdicts) {
      expect(verdict).toMatchObject({ kind: 'filter', source: 'lint', passed: true, confidence: 1 });
      expect(verdict.rationale.length).toBeGreaterThan(0);
    }
  });

  describe('lint_parse', () => {
    it('fails when the reply did not parse, with the parse error', () => {
      const { byName } = lint({ turns: [], parseError: 'no "User 1:" lines found' });
      expect(byName.lint_parse.passed).toBe(false);
      expect(byName.lint_parse.rationale).toContain('no "User 1:" lines found');
    });

    it('fails when speakers do not alternate', () => {
      const turns = alternate(goodTexts);
      turns[3] = { ...turns[3], speaker: 'User 1' };
      const { byName } = lint({ turns });
      expect(byName.lint_parse.passed).toBe(false);
      expect(byName.lint_parse.rationale).toContain('do not alternate');
    });

    it('fails when User 2 speaks first', () => {
      const turns = alternate(goodTexts).map((turn): Turn => ({
        ...turn,
        speaker: turn.speaker === 'User 1' ? 'User 2' : 'User 1',
      }));
      const { byName } = lint({ turns });
      expect(byName.lint_parse.passed).toBe(false);
      expect(byName.lint_parse.rationale).toContain('starts with User 2');
    });

    it('fails when there are no turns', () => {
      expect(lint({ turns: [] }).byName.lint_parse.passed).toBe(false);
    });
  });

  describe('lint_turn_count', () => {
    it('passes at both bounds and fails outside them', () => {
      expect(lint({}, { minTurns: 6, maxTurns: 6 }).byName.lint_turn_count.passed).toBe(true);
      const tooFew = lint({}, { minTurns: 7, maxTurns: 10 }).byName.lint_turn_count;
      expect(tooFew.passed).toBe(false);
      expect(tooFew.rationale).toContain('too few');
      const tooMany = lint({}, { minTurns: 2, maxTurns: 5 }).byName.lint_turn_count;
      expect(tooMany.passed).toBe(false);
      expect(tooMany.rationale).toContain('too many');
    });
  });

  describe('lint_placeholder', () => {
    it.each([
      'Nice to meet you, [Name]!',
      'I moved to [city] last year.',
      'Hi {name}, how are you?',
      'I am from [name of town].',
    ])('fails on %j', (text) => {
      const turns = alternate(goodTexts);
      turns[2] = { ...turns[2], text };
      const verdict = lint({ turns }).byName.lint_placeholder;
      expect(verdict.passed).toBe(false);
      expect(verdict.rationale).toContain('utterance 3');
    });

    it('passes ordinary punctuation and numbers in brackets', () => {
      const turns = alternate(goodTexts);
      turns[1] = { ...turns[1], text: 'I ran 10k (my best time) and felt great :) [1]' };
      expect(lint({ turns }).byName.lint_placeholder.passed).toBe(true);
    });

    it('checks the raw reply when nothing parsed', () => {
      const verdict = lint({ turns: [], rawText: 'Hello [Name]', parseError: 'x' }).byName.lint_placeholder;
      expect(verdict.passed).toBe(false);
      expect(verdict.rationale).toContain('raw reply');
    });
  });

  describe('lint_verbatim_attribute', () => {
    it('fails when an attribute is copied ignoring case and punctuation', () => {
      const turns = alternate(goodTexts);
      turns[4] = { ...turns[4], text: 'Well, I HAVE two dogs, and a cat! They keep me busy.' };
      const verdict = lint({ turns }).byName.lint_verbatim_attribute;
      expect(verdict.passed).toBe(false);
      expect(verdict.rationale).toContain("User 1's attribute");
      expect(verdict.rationale).toContain('I have two dogs and a cat.');
    });

    it("catches either user copying the other user's attribute", () => {
      const turns = alternate(goodTexts);
      turns[2] = { ...turns[2], text: 'So my favorite food is sushi too, funny.' };
      expect(lint({ turns }).byName.lint_verbatim_attribute.passed).toBe(false);
    });

    it('ignores attributes shorter than 4 words and paraphrases', () => {
      const turns = alternate(goodTexts);
      turns[2] = { ...turns[2], text: 'I like hiking, and I have two dogs plus a cat.' };
      const verdict = lint({ turns, user1Persona: ['I like hiking.', 'I have two dogs and a cat.'] }).byName
        .lint_verbatim_attribute;
      expect(verdict.passed).toBe(true);
    });

    it('matches whole words only', () => {
      const turns = alternate(goodTexts);
      turns[0] = { ...turns[0], text: 'I play the guitar in a bandana, weirdly.' };
      expect(lint({ turns }).byName.lint_verbatim_attribute.passed).toBe(true);
    });
  });

  describe('lint_repetition', () => {
    it('fails when the same utterance occurs 3 times', () => {
      const texts = [...goodTexts, 'Haha, yes!', 'haha... YES', 'HAHA yes', 'Bye now.'];
      const verdict = lint({ turns: alternate(texts) }).byName.lint_repetition;
      expect(verdict.passed).toBe(false);
      expect(verdict.rationale).toContain('occurs 3 times');
    });

    it('passes an utterance repeated only twice', () => {
      const texts = [...goodTexts, 'Haha, yes!', 'Haha, yes!'];
      expect(lint({ turns: alternate(texts) }).byName.lint_repetition.passed).toBe(true);
    });

    it('fails when one utterance loops a phrase', () => {
      const turns = alternate(goodTexts);
      turns[5] = { ...turns[5], text: 'I love it. I love it. I love it. I love it.' };
      const verdict = lint({ turns }).byName.lint_repetition;
      expect(verdict.passed).toBe(false);
      expect(verdict.rationale).toContain('"i love it" repeated 4 times');
    });

    it('fails when one word loops', () => {
      const turns = alternate(goodTexts);
      turns[1] = { ...turns[1], text: 'That is so so so so so so so good' };
      expect(lint({ turns }).byName.lint_repetition.passed).toBe(false);
    });

    it('allows short natural repeats like "no no no"', () => {
      const turns = alternate(goodTexts);
      turns[1] = { ...turns[1], text: 'No no no, I meant the other trail, the long one.' };
      expect(lint({ turns }).byName.lint_repetition.passed).toBe(true);
    });
  });
});

describe('findDegenerateRepetition', () => {
  it('flags a long utterance with very few distinct words', () => {
    const text = Array.from({ length: 6 }, () => 'dogs are great and cats are great').join(' and ');
    const problem = findDegenerateRepetition(alternate(['Hello there.', text]));
    expect(problem).toMatch(/utterance 2 \(User 2\)/);
  });

  it('returns null for natural text', () => {
    expect(findDegenerateRepetition(alternate(goodTexts))).toBeNull();
  });
});
