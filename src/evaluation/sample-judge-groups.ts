import { deriveRandom, sampleWithoutReplacement } from '../util/create-random.ts';
import type { EvaluatedConversation } from './compute-dataset-statistics.ts';

/** Conversations of one iteration (or of a whole file: `iteration` null) chosen for judging. */
export interface JudgeGroup {
  iteration: number | null;
  conversations: EvaluatedConversation[];
}

/**
 * Groups conversations by iteration (ascending; a file without iterations is one group) and draws
 * up to `samplesPerGroup` from each without replacement, from a stream derived from
 * (`seed`, `protocol`, iteration): the same seed always judges the same conversations.
 */
export function sampleJudgeGroups(
  conversations: readonly EvaluatedConversation[],
  samplesPerGroup: number,
  seed: number,
  protocol: string,
): JudgeGroup[] {
  if (!Number.isInteger(samplesPerGroup) || samplesPerGroup < 1) {
    throw new RangeError(`Expected \`samplesPerGroup\` to be a positive integer, got ${samplesPerGroup}.`);
  }
  const byIteration = new Map<number | null, EvaluatedConversation[]>();
  for (const conversation of conversations) {
    const key = conversation.iteration ?? null;
    const group = byIteration.get(key);
    if (group) group.push(conversation);
    else byIteration.set(key, [conversation]);
  }
  const keys = [...byIteration.keys()].sort((left, right) => (left ?? 0) - (right ?? 0));
  return keys.map((iteration) => ({
    iteration,
    conversations: sampleWithoutReplacement(
      deriveRandom(seed, `${protocol}/iteration-${iteration ?? 'all'}`),
      byIteration.get(iteration)!,
      samplesPerGroup,
    ),
  }));
}
