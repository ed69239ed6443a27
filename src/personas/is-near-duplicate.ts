/**
 * Lexical near-duplicate test for attribute sentences: token Jaccard similarity
 * (|shared tokens| / |all tokens|) of the two sentences, duplicate when it is >= `threshold`.
 *
 * Tokens are lowercased runs of letters and digits (apostrophes dropped: "don't" -> "dont"), a light
 * plural fold ("dogs" -> "dog", "puppies" -> "puppy"), and a short stopword list removed (articles,
 * pronouns "i"/"my"/"me", forms of "to be", common prepositions and conjunctions, "just"/"very"/
 * "really"). Negations ("not", "never", "no") are kept. Sentences without content tokens are
 * duplicates only when their normalized text is equal.
 *
 * Examples at the default threshold 0.6: "I have two dogs." vs "I have 2 dogs!" -> 2/4 = 0.5 (not
 * a duplicate); "I love dogs." vs "I really love my dog." -> 1.0 (duplicate).
 *
 * @param threshold 0..1; 1 flags only sentences with identical token sets. Config key
 *   `profiles.near_duplicate_threshold` (default 0.6).
 */
export function isNearDuplicate(a: string, b: string, threshold: number): boolean {
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new RangeError(`Expected \`threshold\` to be a number between 0 and 1, got ${threshold}.`);
  }
  const tokensA = contentTokens(a);
  const tokensB = contentTokens(b);
  if (tokensA.size === 0 || tokensB.size === 0) {
    return normalize(a) === normalize(b);
  }
  return tokenJaccard(tokensA, tokensB) >= threshold;
}

/** Jaccard similarity of two sentences' content tokens (0..1), as used by `isNearDuplicate`. */
export function attributeSimilarity(a: string, b: string): number {
  return tokenJaccard(contentTokens(a), contentTokens(b));
}

const STOPWORDS = new Set([
  'a',
  'an',
  'the',
  'i',
  'im',
  'ive',
  'id',
  'ill',
  'my',
  'me',
  'mine',
  'myself',
  'am',
  'is',
  'are',
  'was',
  'were',
  'be',
  'been',
  'being',
  'to',
  'of',
  'in',
  'on',
  'at',
  'for',
  'with',
  'from',
  'by',
  'as',
  'and',
  'or',
  'but',
  'so',
  'it',
  'its',
  'that',
  'this',
  'just',
  'very',
  'really',
]);

/** Lowercased runs of letters and digits, apostrophes dropped: "Don't stop!" -> ["dont", "stop"]. */
function words(text: string): string[] {
  return (
    text
      .toLowerCase()
      .replace(/['’]/g, '')
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

function normalize(text: string): string {
  return words(text).join(' ');
}

function contentTokens(text: string): Set<string> {
  const tokens = new Set<string>();
  for (const word of words(text)) {
    if (STOPWORDS.has(word)) continue;
    tokens.add(foldPlural(word));
  }
  return tokens;
}

function foldPlural(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

function tokenJaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  for (const token of a) if (b.has(token)) shared++;
  return shared / (a.size + b.size - shared);
}
