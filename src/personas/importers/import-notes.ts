/** What an importer left out or joined, so a caller can report it instead of losing it silently. */
export interface ImportNotes {
  /** Records not imported, with the 1-based line where each starts and why. */
  skipped: { line: number; reason: string }[];
  /** Records dropped because the same dialogue was already imported (e.g. ConvAI2's two sides). */
  duplicates: number;
  /** Speaker-turn clean-up counts summed over all conversations (SPC CSV). */
  turnRepairs: { preambleLines: number; stageDirections: number; continuationLines: number; mergedTurns: number };
}

export function emptyImportNotes(): ImportNotes {
  return {
    skipped: [],
    duplicates: 0,
    turnRepairs: { preambleLines: 0, stageDirections: 0, continuationLines: 0, mergedTurns: 0 },
  };
}
