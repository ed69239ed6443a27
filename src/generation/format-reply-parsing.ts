import type { ReplyParsing } from '../schemas/outcome-line.ts';

/** E.g. `generator replies: 40 (31 as written, 8 repaired: 6 markdown_speaker_tags, 2 preamble; 1 unparsable, rejected)`. */
export function formatReplyParsing(parsing: ReplyParsing): string {
  const clean = parsing.replies - parsing.repaired - parsing.unparsable;
  const kinds = Object.entries(parsing.repaired_by_kind)
    .sort(([left, leftCount], [right, rightCount]) => rightCount - leftCount || left.localeCompare(right))
    .map(([kind, count]) => `${count} ${kind}`)
    .join(', ');
  return (
    `generator replies: ${parsing.replies} (${clean} as written, ${parsing.repaired} repaired${kinds ? `: ${kinds}` : ''}; ` +
    `${parsing.unparsable} unparsable, rejected)`
  );
}
