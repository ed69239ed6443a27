import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { PairOutcomeSchema, type PairOutcome } from '../schemas/pair-outcome.ts';

/**
 * A `PairOutcome` as it travels from a worker to the coordinator through the run's outcomes
 * stream: deflated JSON. An outcome with 2 candidates and 7 critics is ~10 KB of JSON; deflated,
 * 1.5 KB on the test fixture's repetitive text (expect about a third of the JSON on real text).
 */
export function encodeOutcome(outcome: PairOutcome): Buffer {
  return deflateRawSync(Buffer.from(JSON.stringify(outcome), 'utf8'));
}

/** Inverse of `encodeOutcome`; validates the shape (a boundary between processes). */
export function decodeOutcome(encoded: Buffer): PairOutcome {
  return PairOutcomeSchema.parse(JSON.parse(inflateRawSync(encoded).toString('utf8')));
}
