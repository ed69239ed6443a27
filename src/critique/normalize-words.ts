/**
 * Lowercased words of a text with punctuation removed, for lint comparisons: apostrophes are dropped
 * ("I'm" -> "im"), every other non-letter, non-digit character separates words.
 */
export function normalizeWords(text: string): string[] {
  // The words are the runs of letters and digits left once apostrophes are gone.
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .replace(/['’‘`]/g, '')
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}
