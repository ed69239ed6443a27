import type { DetectionPickSchema, DetectionSummary, DetectionTrial } from '../schemas/evaluation-result-schema.ts';
import type { z } from 'zod';

type Pick = z.infer<typeof DetectionPickSchema>;

/**
 * The outcome of one trial from its two picks (ours shown as A, then ours shown as B). The judge
 * must pick the same conversation in both orders, otherwise its choice followed the position:
 * lose = ours picked as synthetic both times, win = the reference both times, tie = they differ.
 */
export function detectionOutcome(picks: readonly [Pick, Pick]): DetectionTrial['outcome'] {
  const [first, second] = picks;
  if (first === null || second === null) return 'failed';
  if (first !== second) return 'tie';
  return first === 'ours' ? 'lose' : 'win';
}

/** Counts and rates of trials; rates are over completed (non-failed) trials. */
export function summarizeDetection(trials: readonly DetectionTrial[]): DetectionSummary {
  const count = (outcome: DetectionTrial['outcome']) => trials.filter((trial) => trial.outcome === outcome).length;
  const lose = count('lose');
  const win = count('win');
  const tie = count('tie');
  const completed = lose + win + tie;
  const share = (part: number) => (completed === 0 ? null : part / completed);
  return {
    trials: trials.length,
    lose,
    win,
    tie,
    failed: count('failed'),
    lose_rate: share(lose),
    win_rate: share(win),
    tie_rate: share(tie),
  };
}
