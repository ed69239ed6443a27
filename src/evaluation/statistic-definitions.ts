/** How each statistic and protocol result in `evaluation.json` is defined (written into the file). */
export const STATISTIC_DEFINITIONS: Record<string, string> = {
  words:
    'Lowercase runs of letters and digits, inner apostrophes kept ("don\'t"); punctuation and brackets separate words.',
  utterances:
    'Turns per conversation as read (importers join unlabeled lines to the previous turn and merge consecutive turns of one speaker). ' +
    'mean; median, p10, p90 by linear interpolation between closest ranks (Hyndman-Fan type 7, numpy default): h = (n-1)p, x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]).',
  words_per_utterance: 'Total words over total utterances.',
  attributes_per_profile: 'Mean attributes per user profile (two profiles per conversation).',
  strict_alternation_rate:
    'Share of conversations that start with User 1 and never have the same speaker twice in a row.',
  distinct_1: 'Distinct words over all words of all utterances.',
  distinct_2: 'Distinct word bigrams (within an utterance) over all such bigrams.',
  bracket_placeholder_rate:
    'Share of conversations with an utterance containing a bracketed slot such as [name] (1-60 characters inside the brackets).',
  near_duplicate_rate:
    'Share of conversations whose set of word 3-shingles (over the whole conversation) has Jaccard similarity > 0.8 with another conversation of the same dataset (exact all-pairs join with prefix filtering).',
  persona_attribute_coverage:
    "Per conversation: distinct non-stopword words of both users' attributes that occur in the conversation, over all such words; mean over conversations.",
  ai_detection:
    'LLM judge sees two conversations with their profiles (ours and a reference one: same persona pair if the reference has it, else a seeded pairing) and names the AI-generated one, in both orders. ' +
    'lose = ours named both times, win = reference named both times, tie = the answer follows the position. Rates over completed trials.',
  faithfulness:
    'LLM judge sees one conversation and 8 shuffled statements about one speaker: 4 real attributes and 4 distractors (LLM-negated, LLM-contradicting, random attributes of other profiles) and marks each inferred / contradicted / neither from the conversation alone. ' +
    'inferred_precision = real inferred / all inferred; real_contradicted_rate = real attributes marked contradicted / real attributes judged.',
};
