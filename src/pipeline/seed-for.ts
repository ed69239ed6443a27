import { createHash } from 'node:crypto';

/** A deterministic 31-bit integer seed for a labelled sub-task of a run (LLM `seed` parameter). */
export function seedFor(runSeed: number, label: string): number {
  const digest = createHash('sha256').update(`${runSeed}/${label}`).digest();
  return digest.readUInt32BE(0) & 0x7fffffff;
}
