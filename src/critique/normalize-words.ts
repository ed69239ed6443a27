/**
 * Lowercased words of a text with punctuation removed, for lint comparisons: apostrophes are dropped
 * ("I'm" -> "im"), every other non-letter, non-digit character separates words.
 */
export function normalizeWords(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/['’‘`]/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0);
}
