import { pairJobId, type PairJob } from '../schemas/pair-job.ts';

/**
 * The BullMQ job id of a pair job: `pairJobId` with `%` and `:` percent-encoded. BullMQ rejects
 * custom ids containing `:` unless they have exactly three `:`-separated parts (a leftover of
 * its legacy repeatable-job ids), so `run:it1:pair` happens to pass today but would be read as a
 * repeatable-job key; encoding keeps ids plain, injective and stable across versions.
 */
export function bullMqJobId(job: Pick<PairJob, 'run_id' | 'iteration' | 'pair'>): string {
  return pairJobId(job).replace(/%/g, '%25').replace(/:/g, '%3A');
}
