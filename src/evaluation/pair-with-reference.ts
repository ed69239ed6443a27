import { deriveRandom, sampleWithoutReplacement } from '../util/create-random.ts';
import type { EvaluatedConversation } from './compute-dataset-statistics.ts';

/** A persona pair as an order-sensitive key: the same pair talking in another dataset matches. */
export function personaPairKey(conversation: Pick<EvaluatedConversation, 'user1_persona' | 'user2_persona'>): string {
  const normalize = (persona: readonly string[]) =>
    persona.map((attribute) => attribute.trim().toLowerCase()).join('\n');
  return `${normalize(conversation.user1_persona)}\u0000${normalize(conversation.user2_persona)}`;
}

/**
 * Chooses the reference conversation each of ours is compared with in the AI-detection test,
 * deterministically for `seed`:
 * 1. a reference conversation of the same persona pair, when there is one (the paper's setting:
 *    SPC part 1 shares its pairs with Persona-Chat);
 * 2. otherwise the next one in a seeded permutation of the reference, starting over when it is
 *    used up, so references repeat only when there are more of ours than of them.
 * `conversations` is processed in the order given; returns one reference per conversation.
 */
export function pairWithReference(
  conversations: readonly EvaluatedConversation[],
  reference: readonly EvaluatedConversation[],
  seed: number,
): EvaluatedConversation[] {
  if (reference.length === 0) throw new RangeError('Expected a non-empty reference to pair with, got 0 conversations.');
  const byPair = new Map<string, EvaluatedConversation>();
  for (const candidate of reference) {
    const key = personaPairKey(candidate);
    if (!byPair.has(key)) byPair.set(key, candidate);
  }
  const order = sampleWithoutReplacement(
    deriveRandom(seed, 'ai-detection/reference-order'),
    reference,
    reference.length,
  );
  let cursor = 0;
  return conversations.map((conversation) => {
    const samePair = byPair.get(personaPairKey(conversation));
    if (samePair) return samePair;
    const chosen = order[cursor % order.length];
    cursor++;
    return chosen;
  });
}
