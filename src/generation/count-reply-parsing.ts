import type { CandidateRecord } from '../schemas/candidate-record.ts';
import type { ReplyParsing } from '../schemas/outcome-line.ts';

/**
 * How a pair's generator replies parsed: every candidate is one reply; it is `unparsable` when it
 * has a `parse_error`, else `repaired` when the parser made any repair (counted once per kind).
 */
export function countReplyParsing(
  candidates: readonly Pick<CandidateRecord, 'parse_repairs' | 'parse_error'>[],
): ReplyParsing {
  const parsing: ReplyParsing = { replies: candidates.length, repaired: 0, unparsable: 0, repaired_by_kind: {} };
  for (const candidate of candidates) {
    if (candidate.parse_error !== undefined) {
      parsing.unparsable++;
      continue;
    }
    const kinds = Object.entries(candidate.parse_repairs ?? {}).filter(([, count]) => count > 0);
    if (kinds.length === 0) continue;
    parsing.repaired++;
    for (const [kind] of kinds) parsing.repaired_by_kind[kind] = (parsing.repaired_by_kind[kind] ?? 0) + 1;
  }
  return parsing;
}
