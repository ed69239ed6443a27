import type { ImportSummary } from '../../schemas/import-summary.ts';

/** One warning line per skipped record: `warning: <file>:<line>: skipped (<reason>): <message>`. */
export function formatImportWarnings(summary: ImportSummary): string[] {
  return summary.skipped_records.map(
    (record) => `warning: ${summary.path}:${record.line}: skipped (${record.reason}): ${record.message}`,
  );
}

/**
 * The import in one line (`strictSwitch` names the switch that makes skips errors), e.g. `import: 998 of 1000 records of valid.csv imported (64 repaired:
 * 44 blank_lines, 3 markdown_speaker_tags); 2 skipped (1 empty_conversation, 1 no_recognizable_turns)`.
 */
export function formatImportSummary(summary: ImportSummary, strictSwitch = '--strict'): string {
  const counts = (byKind: Record<string, number | undefined>) =>
    Object.entries(byKind)
      .filter(([, count]) => (count ?? 0) > 0)
      .sort(
        ([left, leftCount], [right, rightCount]) => (rightCount ?? 0) - (leftCount ?? 0) || left.localeCompare(right),
      )
      .map(([kind, count]) => `${count} ${kind}`)
      .join(', ');
  const repaired = summary.repaired > 0 ? ` (${summary.repaired} repaired: ${counts(summary.repaired_by_kind)})` : '';
  const skipped =
    summary.skipped > 0 ? `${summary.skipped} skipped (${counts(summary.skipped_by_reason)})` : '0 skipped';
  const duplicates = summary.duplicates > 0 ? `; ${summary.duplicates} duplicate dialogues kept once` : '';
  return (
    `import: ${summary.imported} of ${summary.rows_read} records of ${summary.path} imported${repaired}; ` +
    `${skipped}${duplicates}${summary.skipped > 0 ? ` (${strictSwitch} makes a skipped record an error)` : ''}`
  );
}
