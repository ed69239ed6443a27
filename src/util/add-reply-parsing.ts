import type { ReplyParsing } from '../schemas/outcome-line.ts';

/** Sums two reply-parsing counts (either may be absent); returns a new object. */
export function addReplyParsing(total: ReplyParsing | undefined, more: ReplyParsing): ReplyParsing {
  const sum: ReplyParsing = {
    replies: (total?.replies ?? 0) + more.replies,
    repaired: (total?.repaired ?? 0) + more.repaired,
    unparsable: (total?.unparsable ?? 0) + more.unparsable,
    repaired_by_kind: { ...total?.repaired_by_kind },
  };
  for (const [kind, count] of Object.entries(more.repaired_by_kind)) {
    sum.repaired_by_kind[kind] = (sum.repaired_by_kind[kind] ?? 0) + count;
  }
  return sum;
}
