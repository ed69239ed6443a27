import type { PoolRecord } from '../../schemas/conversation.ts';
import type { Pair } from '../../schemas/pair.ts';
import type { Turn } from '../../schemas/turn.ts';

/** One imported conversation before it becomes a pool record and a pair. */
export interface SeedConversation {
  id: string;
  user1Persona: string[];
  user2Persona: string[];
  turns: Turn[];
}

/**
 * The pool record (`source: "seed"`, iteration 0, score 0) and the pair of one imported
 * conversation. They share `id`; profile ids are `<id>-u1` and `<id>-u2`.
 */
export function buildSeedRecord(conversation: SeedConversation): { record: PoolRecord; pair: Pair } {
  const { id, user1Persona, user2Persona, turns } = conversation;
  return {
    record: {
      id,
      user1_persona: user1Persona,
      user2_persona: user2Persona,
      turns,
      source: 'seed',
      iteration: 0,
      score: 0,
    },
    pair: {
      id,
      user1: { id: `${id}-u1`, attributes: user1Persona },
      user2: { id: `${id}-u2`, attributes: user2Persona },
    },
  };
}

/** A file-derived id prefix: `data/valid.csv` -> `valid`. */
export function fileStem(path: string): string {
  const base = path.split(/[\\/]/).pop() ?? path;
  return base.replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9._-]+/g, '-') || 'seed';
}
