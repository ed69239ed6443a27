import type { FilterVerdict } from '../schemas/critic.ts';
import type { Turn } from '../schemas/turn.ts';
import { findDegenerateRepetition } from './find-degenerate-repetition.ts';
import { normalizeWords } from './normalize-words.ts';

/** A generated candidate as the lint checks see it. */
export interface LintInput {
  turns: readonly Turn[];
  /** Raw generator reply (checked for placeholders when no turns parsed). */
  rawText: string;
  /** Why the reply did not parse into turns, when it did not. */
  parseError?: string;
  user1Persona: readonly string[];
  user2Persona: readonly string[];
}

export interface LintOptions {
  /** Fewest utterances allowed (inclusive). */
  minTurns: number;
  /** Most utterances allowed (inclusive). */
  maxTurns: number;
  /** Attributes shorter than this many words are not checked for verbatim copies. @defaultValue 4 */
  verbatimMinWords?: number;
}

/** Names of the deterministic checks, in the order they run and are recorded. */
export const LINT_CHECKS = [
  'lint_parse',
  'lint_turn_count',
  'lint_placeholder',
  'lint_verbatim_attribute',
  'lint_repetition',
] as const;

/** `[Name]`, `[name of city]`, `{name}`, `{{city}}`: template slots the generator left unfilled. */
const PLACEHOLDER_PATTERN = /\[[^[\]\n]{0,40}\p{L}[^[\]\n]{0,40}\]|\{\{?\s*\p{L}[^{}\n]{0,40}\}\}?/gu;

/**
 * The free, deterministic checks that run before any LLM critic. Returns one verdict per check in
 * `LINT_CHECKS` order, passed or not (all are recorded), each with source `lint` and confidence 1.
 * A candidate failing any of them is filtered without an LLM call.
 */
export function lintConversation(input: LintInput, options: LintOptions): FilterVerdict[] {
  // Both word-level checks read the same normalized utterances: normalize each one once.
  const wordsPerTurn = input.turns.map((turn) => normalizeWords(turn.text));
  return [
    verdict('lint_parse', checkParse(input)),
    verdict('lint_turn_count', checkTurnCount(input.turns, options)),
    verdict('lint_placeholder', checkPlaceholders(input)),
    verdict('lint_verbatim_attribute', checkVerbatim(input, wordsPerTurn, options.verbatimMinWords ?? 4)),
    verdict('lint_repetition', checkRepetition(input.turns, wordsPerTurn)),
  ];
}

interface CheckOutcome {
  passed: boolean;
  rationale: string;
}

function verdict(critic: (typeof LINT_CHECKS)[number], outcome: CheckOutcome): FilterVerdict {
  return {
    critic,
    kind: 'filter',
    source: 'lint',
    passed: outcome.passed,
    confidence: 1,
    rationale: outcome.rationale,
  };
}

function checkParse(input: LintInput): CheckOutcome {
  if (input.parseError !== undefined) return { passed: false, rationale: `reply did not parse: ${input.parseError}` };
  const { turns } = input;
  if (turns.length === 0) return { passed: false, rationale: 'reply has no "User 1:" / "User 2:" utterances' };
  if (turns[0].speaker !== 'User 1') {
    return { passed: false, rationale: `conversation starts with ${turns[0].speaker}, not User 1` };
  }
  for (let index = 1; index < turns.length; index++) {
    if (turns[index].speaker === turns[index - 1].speaker) {
      return {
        passed: false,
        rationale: `speakers do not alternate: utterances ${index} and ${index + 1} are both ${turns[index].speaker}`,
      };
    }
  }
  return { passed: true, rationale: `${turns.length} utterances alternating User 1 / User 2` };
}

function checkTurnCount(turns: readonly Turn[], options: LintOptions): CheckOutcome {
  const count = turns.length;
  const bounds = `allowed ${options.minTurns}-${options.maxTurns}`;
  if (count < options.minTurns) return { passed: false, rationale: `${count} utterances, too few (${bounds})` };
  if (count > options.maxTurns) return { passed: false, rationale: `${count} utterances, too many (${bounds})` };
  return { passed: true, rationale: `${count} utterances (${bounds})` };
}

function checkPlaceholders(input: LintInput): CheckOutcome {
  const { turns } = input;
  const texts = turns.length > 0 ? turns.map((turn) => turn.text) : [input.rawText];
  const found: string[] = [];
  // `match` with the global pattern lists a text's placeholders without cloning the pattern per
  // text as `matchAll` does, and the location is only worded for a placeholder actually found.
  texts.forEach((text, index) => {
    for (const placeholder of text.match(PLACEHOLDER_PATTERN) ?? []) {
      const where = turns.length > 0 ? `utterance ${index + 1} (${turns[index].speaker})` : 'the raw reply';
      found.push(`"${placeholder}" in ${where}`);
    }
  });
  if (found.length === 0) return { passed: true, rationale: 'no bracket placeholders' };
  const listed = found.slice(0, 3).join(', ') + (found.length > 3 ? ` and ${found.length - 3} more` : '');
  return { passed: false, rationale: `placeholder left unfilled: ${listed}` };
}

function checkVerbatim(input: LintInput, wordsPerTurn: readonly string[][], minWords: number): CheckOutcome {
  const keyed = (owner: string, text: string) => ({ owner, text, key: normalizeWords(text).join(' ') });
  const attributes = [
    ...input.user1Persona.map((text) => keyed('User 1', text)),
    ...input.user2Persona.map((text) => keyed('User 2', text)),
  ].filter((attribute) => attribute.key.split(' ').length >= minWords);
  const utterances = wordsPerTurn.map((words) => ` ${words.join(' ')} `);
  for (const attribute of attributes) {
    const needle = ` ${attribute.key} `;
    const index = utterances.findIndex((utterance) => utterance.includes(needle));
    if (index >= 0) {
      return {
        passed: false,
        rationale: `utterance ${index + 1} (${input.turns[index].speaker}) copies ${attribute.owner}'s attribute verbatim: "${attribute.text}"`,
      };
    }
  }
  return {
    passed: true,
    rationale: `no attribute copied verbatim (${attributes.length} attributes of ${minWords}+ words checked)`,
  };
}

function checkRepetition(turns: readonly Turn[], wordsPerTurn: readonly string[][]): CheckOutcome {
  const problem = findDegenerateRepetition(turns, wordsPerTurn);
  if (problem) return { passed: false, rationale: `degenerate repetition: ${problem}` };
  return { passed: true, rationale: 'no degenerate repetition' };
}
