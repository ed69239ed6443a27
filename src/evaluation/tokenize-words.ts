const WORD_PATTERN = /[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*/gu;
// Same words for ASCII-only text, several times faster than the Unicode-aware pattern.
const ASCII_WORD_PATTERN = /[a-z0-9]+(?:'[a-z0-9]+)*/g;
// eslint-disable-next-line no-control-regex -- the ASCII range starts at NUL on purpose
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Lowercase word tokens of a text: runs of letters and digits, keeping inner apostrophes
 * ("don't", "user's"). Punctuation, brackets and whitespace separate words and are dropped.
 * Every word-based statistic (words per utterance, distinct-n, shingles, coverage) uses this.
 */
export function tokenizeWords(text: string): string[] {
  const lower = text.toLowerCase();
  if (!NON_ASCII.test(lower)) return lower.match(ASCII_WORD_PATTERN) ?? [];
  return lower.replace(/’/g, "'").match(WORD_PATTERN) ?? [];
}
