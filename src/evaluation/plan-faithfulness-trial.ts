import type { Random } from '../util/create-random.ts';
import { randomInt, sampleWithoutReplacement } from '../util/create-random.ts';
import type { EvaluatedConversation } from './compute-dataset-statistics.ts';
import type { AttributeKind } from '../schemas/evaluation-result-schema.ts';

/** How many distractors of each kind a faithfulness trial shows. The paper used 4 in all. */
export interface DistractorCounts {
  /** Negations of real attributes, written by the LLM. @defaultValue 1 */
  negated: number;
  /** Attributes of other profiles in the dataset. @defaultValue 2 */
  random: number;
  /** Attributes that contradict a real one without negating it, written by the LLM. @defaultValue 1 */
  contradicting: number;
}

export const DEFAULT_DISTRACTOR_COUNTS: DistractorCounts = { negated: 1, random: 2, contradicting: 1 };

/** What one faithfulness trial will show, before the LLM writes the negated and contradicting items. */
export interface FaithfulnessPlan {
  speaker: 'User 1' | 'User 2';
  /** Real attributes of the speaker shown (up to `realCount`). */
  real: string[];
  /** Real attributes to negate / to contradict (taken from `real`, repeating only if it is short). */
  negateSources: string[];
  contradictSources: string[];
  /** Random attributes of other profiles. */
  random: string[];
  /** Spare random attributes, used when the LLM's distractors are unusable. */
  spareRandom: string[];
}

/** One candidate attribute of a trial, in display order. */
export interface FaithfulnessItem {
  text: string;
  kind: AttributeKind;
  source: string | null;
}

const normalize = (attribute: string) => attribute.trim().toLowerCase().replace(/\s+/g, ' ');

/**
 * Plans a trial for one conversation: picks the speaker, up to `realCount` of its attributes, the
 * attributes to negate and to contradict, and random attributes from `attributePool` that belong
 * to neither user. Pure given `random`.
 */
export function planFaithfulnessTrial(
  conversation: EvaluatedConversation,
  attributePool: readonly string[],
  random: Random,
  options: { realCount?: number; distractors?: DistractorCounts } = {},
): FaithfulnessPlan {
  const counts = options.distractors ?? DEFAULT_DISTRACTOR_COUNTS;
  const speaker = random() < 0.5 ? 'User 1' : 'User 2';
  const persona = speaker === 'User 1' ? conversation.user1_persona : conversation.user2_persona;
  const real = sampleWithoutReplacement(random, persona, options.realCount ?? 4);
  // Negate and contradict different attributes where possible.
  const shuffled = sampleWithoutReplacement(random, real, real.length);
  const pick = (offset: number, count: number) =>
    Array.from({ length: real.length === 0 ? 0 : count }, (_, index) => shuffled[(offset + index) % shuffled.length]);
  const negateSources = pick(0, counts.negated);
  const contradictSources = pick(counts.negated, counts.contradicting);

  const excluded = new Set([...conversation.user1_persona, ...conversation.user2_persona].map(normalize));
  const wanted = counts.random + counts.negated + counts.contradicting;
  const randomAttributes: string[] = [];
  // Rejection sampling: the pool is large compared with the ≤ 10 excluded attributes.
  for (
    let attempt = 0;
    attempt < wanted * 20 && randomAttributes.length < wanted && attributePool.length > 0;
    attempt++
  ) {
    const candidate = attributePool[randomInt(random, attributePool.length)];
    const key = normalize(candidate);
    if (excluded.has(key)) continue;
    excluded.add(key);
    randomAttributes.push(candidate);
  }
  return {
    speaker,
    real,
    negateSources,
    contradictSources,
    random: randomAttributes.slice(0, counts.random),
    spareRandom: randomAttributes.slice(counts.random),
  };
}

/**
 * The trial's items: real attributes, the LLM's negated and contradicting distractors (an empty,
 * missing or duplicate one is replaced by a spare random attribute and counted in `fallbacks`),
 * and the random ones, shuffled with `random`. Pure given `random`.
 */
export function assembleFaithfulnessItems(
  plan: FaithfulnessPlan,
  written: { negated: readonly string[]; contradicting: readonly string[] } | null,
  random: Random,
): { items: FaithfulnessItem[]; fallbacks: number } {
  const items: FaithfulnessItem[] = plan.real.map((text) => ({ text, kind: 'real', source: null }));
  const seen = new Set(items.map((item) => normalize(item.text)));
  const spare = plan.spareRandom.slice();
  let fallbacks = 0;
  const add = (text: string | undefined, kind: AttributeKind, source: string | null) => {
    const cleaned = text?.trim() ?? '';
    if (cleaned !== '' && !seen.has(normalize(cleaned))) {
      seen.add(normalize(cleaned));
      items.push({ text: cleaned, kind, source });
      return;
    }
    if (kind === 'random') return;
    fallbacks++;
    const replacement = spare.shift();
    if (replacement !== undefined && !seen.has(normalize(replacement))) {
      seen.add(normalize(replacement));
      items.push({ text: replacement, kind: 'random', source: null });
    }
  };
  plan.negateSources.forEach((source, index) => add(written?.negated[index], 'negated', source));
  plan.contradictSources.forEach((source, index) => add(written?.contradicting[index], 'contradicting', source));
  for (const text of plan.random) add(text, 'random', null);
  return { items: sampleWithoutReplacement(random, items, items.length), fallbacks };
}
