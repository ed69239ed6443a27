import type { Turn } from '../schemas/turn.ts';
import { tokenizeWords } from './tokenize-words.ts';
import { percentile } from './percentile.ts';
import { findNearDuplicates } from './find-near-duplicates.ts';
import { ENGLISH_STOPWORDS } from './english-stopwords.ts';
import type { DatasetStatistics } from '../schemas/evaluation-result-schema.ts';

/**
 * What the statistics read of a conversation. `DatasetRow`, `PoolRecord` (imported datasets) and
 * rows read from Parquet all have this shape.
 */
export interface EvaluatedConversation {
  id: string;
  user1_persona: readonly string[];
  user2_persona: readonly string[];
  turns: readonly Turn[];
  /** Generator-Critic iteration, for rows of a run. */
  iteration?: number;
}

/** Options of `computeDatasetStatistics`. */
export interface DatasetStatisticsOptions {
  /** Words per shingle for near-duplicate detection. @defaultValue 3 */
  shingleSize?: number;
  /** Near-duplicate when the shingle Jaccard to another conversation is strictly above this. @defaultValue 0.8 */
  nearDuplicateThreshold?: number;
}

/** `[name]`, `[user 2's name]`, `[City]`: a bracketed template slot the model left unfilled. */
const BRACKET_PLACEHOLDER = /\[[^[\]\n]{1,60}\]/;

/**
 * Corpus statistics of conversations, as measured on the released SPC data (METHOD.md):
 * - utterances per conversation: mean, median, P10, P90 (linear interpolation, see `percentile`);
 * - words per utterance: total words / total utterances (words as in `tokenizeWords`);
 * - strict alternation rate: share of conversations that start with `User 1` and never have the
 *   same speaker twice in a row;
 * - distinct-1 / distinct-2: distinct word unigrams (bigrams within an utterance) over all
 *   unigrams (bigrams) of all utterances;
 * - bracket-placeholder rate: share of conversations with an utterance containing `[...]`;
 * - near-duplicate rate: share of conversations whose word 3-shingle set has Jaccard > 0.8 with
 *   another conversation's (exact, see `findNearDuplicates`);
 * - persona-attribute lexical coverage: per conversation, the share of distinct content words
 *   (non-stopwords) of both users' attributes that occur among the conversation's words; then the
 *   mean over conversations that have any attribute content word.
 * Rates are fractions in [0, 1]; statistics of an empty input are 0 or null.
 */
export function computeDatasetStatistics(
  conversations: readonly EvaluatedConversation[],
  options: DatasetStatisticsOptions = {},
): DatasetStatistics {
  const utteranceCounts: number[] = [];
  // Words as ids, bigrams as one number (id · 2^26 + id): much cheaper than string sets at 20k conversations.
  const wordIds = new Map<string, number>();
  const bigrams = new Set<number>();
  let totalWords = 0;
  let totalBigrams = 0;
  let alternating = 0;
  let withPlaceholder = 0;
  let coverageSum = 0;
  let coverageConversations = 0;
  const shingleDocuments: string[][] = [];
  const attributesPerProfile: number[] = [];

  for (const conversation of conversations) {
    utteranceCounts.push(conversation.turns.length);
    attributesPerProfile.push(conversation.user1_persona.length, conversation.user2_persona.length);
    if (isStrictlyAlternating(conversation.turns)) alternating++;
    if (conversation.turns.some((turn) => BRACKET_PLACEHOLDER.test(turn.text))) withPlaceholder++;

    const conversationWords: string[] = [];
    for (const turn of conversation.turns) {
      const words = tokenizeWords(turn.text);
      totalWords += words.length;
      let previousId = -1;
      for (let index = 0; index < words.length; index++) {
        let id = wordIds.get(words[index]);
        if (id === undefined) {
          id = wordIds.size;
          wordIds.set(words[index], id);
        }
        conversationWords.push(words[index]);
        if (index > 0) {
          bigrams.add(previousId * 67_108_864 + id);
          totalBigrams++;
        }
        previousId = id;
      }
    }
    shingleDocuments.push(conversationWords);

    const coverage = attributeCoverage(
      [...conversation.user1_persona, ...conversation.user2_persona],
      conversationWords,
    );
    if (coverage !== null) {
      coverageSum += coverage;
      coverageConversations++;
    }
  }

  const totalUtterances = utteranceCounts.reduce((sum, count) => sum + count, 0);
  const sortedCounts = utteranceCounts.slice().sort((left, right) => left - right);
  const distribution: Record<string, number> = {};
  for (const count of sortedCounts) distribution[count] = (distribution[count] ?? 0) + 1;
  const nearDuplicates = findNearDuplicates(shingleDocuments, {
    shingleSize: options.shingleSize ?? 3,
    threshold: options.nearDuplicateThreshold ?? 0.8,
  });
  const count = conversations.length;
  const share = (part: number) => (count === 0 ? 0 : part / count);

  return {
    conversations: count,
    utterances: {
      total: totalUtterances,
      mean: count === 0 ? null : totalUtterances / count,
      median: percentile(sortedCounts, 0.5),
      p10: percentile(sortedCounts, 0.1),
      p90: percentile(sortedCounts, 0.9),
      min: count === 0 ? null : sortedCounts[0],
      max: count === 0 ? null : sortedCounts[sortedCounts.length - 1],
      distribution,
    },
    words_per_utterance: totalUtterances === 0 ? null : totalWords / totalUtterances,
    attributes_per_profile:
      attributesPerProfile.length === 0
        ? null
        : attributesPerProfile.reduce((sum, value) => sum + value, 0) / attributesPerProfile.length,
    strict_alternation_rate: share(alternating),
    distinct_1: totalWords === 0 ? 0 : wordIds.size / totalWords,
    distinct_2: totalBigrams === 0 ? 0 : bigrams.size / totalBigrams,
    bracket_placeholder_rate: share(withPlaceholder),
    near_duplicate_rate: share(nearDuplicates.flagged.filter(Boolean).length),
    persona_attribute_coverage: coverageConversations === 0 ? null : coverageSum / coverageConversations,
  };
}

/** Starts with `User 1` and alternates strictly. */
export function isStrictlyAlternating(turns: readonly Turn[]): boolean {
  if (turns.length === 0 || turns[0].speaker !== 'User 1') return false;
  for (let index = 1; index < turns.length; index++) {
    if (turns[index].speaker === turns[index - 1].speaker) return false;
  }
  return true;
}

/** Share of the attributes' distinct content words found among `conversationWords`; null when none. */
export function attributeCoverage(attributes: readonly string[], conversationWords: readonly string[]): number | null {
  const contentWords = new Set<string>();
  for (const attribute of attributes) {
    for (const word of tokenizeWords(attribute)) if (!ENGLISH_STOPWORDS.has(word)) contentWords.add(word);
  }
  if (contentWords.size === 0) return null;
  const spoken = new Set(conversationWords);
  let covered = 0;
  for (const word of contentWords) if (spoken.has(word)) covered++;
  return covered / contentWords.size;
}
