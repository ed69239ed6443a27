import type { FaithfulnessSummary, FaithfulnessTrial } from '../schemas/evaluation-result-schema.ts';

/**
 * Aggregates judged attributes over trials (failed trials are counted, not judged):
 * precision of inferred = real attributes marked inferred / all attributes marked inferred;
 * real contradicted rate = real attributes marked contradicted / real attributes judged.
 */
export function summarizeFaithfulness(trials: readonly FaithfulnessTrial[]): FaithfulnessSummary {
  const byKind: FaithfulnessSummary['by_kind'] = {};
  let judged = 0;
  let inferred = 0;
  let contradicted = 0;
  let real = 0;
  let realInferred = 0;
  let realContradicted = 0;
  for (const trial of trials) {
    if (trial.error !== null) continue;
    for (const item of trial.items) {
      if (item.label === null) continue;
      judged++;
      const counts = (byKind[item.kind] ??= { inferred: 0, contradicted: 0, neither: 0 });
      counts[item.label]++;
      if (item.label === 'inferred') inferred++;
      if (item.label === 'contradicted') contradicted++;
      if (item.kind === 'real') {
        real++;
        if (item.label === 'inferred') realInferred++;
        if (item.label === 'contradicted') realContradicted++;
      }
    }
  }
  const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);
  return {
    trials: trials.length,
    failed: trials.filter((trial) => trial.error !== null).length,
    attributes_judged: judged,
    inferred_precision: ratio(realInferred, inferred),
    real_inferred_rate: ratio(realInferred, real),
    real_contradicted_rate: ratio(realContradicted, real),
    inferred_share: ratio(inferred, judged),
    contradicted_share: ratio(contradicted, judged),
    by_kind: byKind,
  };
}
