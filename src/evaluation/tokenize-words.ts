const WORD_PATTERN = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu;

/**
 * Lowercase word tokens of a text: runs of letters and digits, keeping inner apostrophes
 * ("don't", "user's"). Punctuation, brackets and whitespace separate words and are dropped.
 * Every word-based statistic (words per utterance, distinct-n, shingles, coverage) uses this.
 */
export function tokenizeWords(text: string): string[] {
  return text.toLowerCase().replace(/’/g, "'").match(WORD_PATTERN) ?? [];
}
