import { InputError } from '../../errors.ts';
import type { ImportSkipReason, ImportSummary, SkippedRecord } from '../../schemas/import-summary.ts';

/**
 * What an importer read, skipped, joined or repaired, so a caller can report it instead of losing
 * it silently. Importers record through `skipRecord` and `noteImported`; `summarizeImport` turns
 * the notes into the `ImportSummary` written to JSON outputs.
 */
export interface ImportNotes {
  /** Throw on the first skipped record (`--strict`, `personas.strict`) instead of skipping it. */
  strict: boolean;
  /** Records not imported, with the 1-based line where each starts and why. */
  skipped: SkippedRecord[];
  /** Records dropped because the same dialogue was already imported (e.g. ConvAI2's two sides). */
  duplicates: number;
  /** Records imported (repaired ones included). */
  imported: number;
  /** Imported records that needed at least one repair. */
  repaired: number;
  /** Repair kind -> imported records that needed it. */
  repairedByKind: Record<string, number>;
  /** Speaker-turn clean-up counts summed over all conversations (SPC CSV). */
  turnRepairs: { preambleLines: number; stageDirections: number; continuationLines: number; mergedTurns: number };
}

export function emptyImportNotes(options: { strict?: boolean } = {}): ImportNotes {
  return {
    strict: options.strict ?? false,
    skipped: [],
    duplicates: 0,
    imported: 0,
    repaired: 0,
    repairedByKind: {},
    turnRepairs: { preambleLines: 0, stageDirections: 0, continuationLines: 0, mergedTurns: 0 },
  };
}

/**
 * Leaves one record out: counted with its line and reason, or, in strict mode, the `InputError`
 * naming `file:line` that a strict import stops on.
 */
export function skipRecord(
  notes: ImportNotes,
  file: string,
  skipped: { line: number; reason: ImportSkipReason; message: string },
): void {
  if (notes.strict) throw new InputError(skipped.message, file, skipped.line);
  notes.skipped.push({ line: skipped.line, reason: skipped.reason, message: skipped.message });
}

/** Counts one imported record and the kinds of repair it needed (none = imported as it was). */
export function noteImported(notes: ImportNotes, repairKinds: Iterable<string> = []): void {
  notes.imported++;
  const kinds = new Set(repairKinds);
  if (kinds.size === 0) return;
  notes.repaired++;
  for (const kind of kinds) notes.repairedByKind[kind] = (notes.repairedByKind[kind] ?? 0) + 1;
}

/** The notes as the `ImportSummary` of JSON outputs. */
export function summarizeImport(notes: ImportNotes, path: string, format: ImportSummary['format']): ImportSummary {
  const skippedByReason: ImportSummary['skipped_by_reason'] = {};
  for (const { reason } of notes.skipped) skippedByReason[reason] = (skippedByReason[reason] ?? 0) + 1;
  return {
    path,
    format,
    rows_read: notes.imported + notes.skipped.length + notes.duplicates,
    imported: notes.imported,
    repaired: notes.repaired,
    repaired_by_kind: { ...notes.repairedByKind },
    skipped: notes.skipped.length,
    skipped_by_reason: skippedByReason,
    skipped_records: notes.skipped.map((record) => ({ ...record })),
    duplicates: notes.duplicates,
    turn_repairs: {
      preamble_lines: notes.turnRepairs.preambleLines,
      stage_directions: notes.turnRepairs.stageDirections,
      continuation_lines: notes.turnRepairs.continuationLines,
      merged_turns: notes.turnRepairs.mergedTurns,
    },
  };
}
