import type { Turn } from '../schemas/turn.ts';
import { normalizeWords } from './normalize-words.ts';

export const REPEATED_UTTERANCE_MIN = 3;
export const LOOP_MAX_NGRAM = 8;
export const LOOP_MIN_REPEATS = 3;
export const LOOP_MIN_WORDS = 6;
export const LOW_VARIETY_MIN_WORDS = 20;
export const LOW_VARIETY_MAX_RATIO = 0.3;

/**
 * Degenerate-repetition rule (the `lint_repetition` check). A conversation fails when any of:
 * 1. the same utterance (after `normalizeWords`) occurs `REPEATED_UTTERANCE_MIN` (3) or more times;
 * 2. one utterance loops: a run of 1–`LOOP_MAX_NGRAM` (8) words repeats back to back at least
 *    `LOOP_MIN_REPEATS` (3) times covering at least `LOOP_MIN_WORDS` (6) words
 *    ("so so so so so so", "I love it I love it I love it"); "no no no" alone is allowed;
 * 3. an utterance of at least `LOW_VARIETY_MIN_WORDS` (20) words has fewer than
 *    `LOW_VARIETY_MAX_RATIO` (30%) distinct words (non-adjacent loops).
 * Returns a description of the first problem found, or null.
 *
 * @param wordsPerTurn `normalizeWords` of each turn's text, when the caller already has them.
 */
export function findDegenerateRepetition(
  turns: readonly Turn[],
  wordsPerTurn: readonly (readonly string[])[] = turns.map((turn) => normalizeWords(turn.text)),
): string | null {
  const counts = new Map<string, number>();
  for (const words of wordsPerTurn) {
    if (words.length === 0) continue;
    const key = words.join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const [utterance, count] of counts) {
    if (count >= REPEATED_UTTERANCE_MIN) return `the utterance "${shorten(utterance)}" occurs ${count} times`;
  }

  for (const [index, words] of wordsPerTurn.entries()) {
    const loop = findLoop(words);
    if (loop)
      return `utterance ${index + 1} (${turns[index].speaker}) loops: "${shorten(loop.unit)}" repeated ${loop.repeats} times`;
    if (words.length >= LOW_VARIETY_MIN_WORDS) {
      const ratio = new Set(words).size / words.length;
      if (ratio < LOW_VARIETY_MAX_RATIO) {
        return `utterance ${index + 1} (${turns[index].speaker}) has ${words.length} words but only ${Math.round(ratio * 100)}% distinct`;
      }
    }
  }
  return null;
}

function findLoop(words: readonly string[]): { unit: string; repeats: number } | null {
  for (let size = 1; size <= LOOP_MAX_NGRAM; size++) {
    for (let start = 0; start + size * LOOP_MIN_REPEATS <= words.length; start++) {
      let repeats = 1;
      while (sameRun(words, start, start + repeats * size, size)) repeats++;
      if (repeats >= LOOP_MIN_REPEATS && repeats * size >= LOOP_MIN_WORDS) {
        return { unit: words.slice(start, start + size).join(' '), repeats };
      }
    }
  }
  return null;
}

function sameRun(words: readonly string[], first: number, second: number, size: number): boolean {
  if (second + size > words.length) return false;
  for (let offset = 0; offset < size; offset++) {
    if (words[first + offset] !== words[second + offset]) return false;
  }
  return true;
}

function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
