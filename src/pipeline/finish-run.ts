import { writeDatasetCard } from '../output/write-dataset-card.ts';
import { writeRunReport } from '../evaluation/write-run-report.ts';

/**
 * Writes the human-facing files of a finished run: the dataset card (`README.md`) and
 * `report.html`. A failure here never loses data (rows, Parquet and manifest are already
 * written): it is reported as an event and the run still succeeds.
 */
export async function finishRun(
  runDir: string,
  deps: { emit: (event: string, fields: Record<string, unknown>) => void; report?: boolean },
): Promise<void> {
  try {
    await writeDatasetCard(runDir);
  } catch (error) {
    deps.emit('dataset card not written', { error: error instanceof Error ? error.message : String(error) });
  }
  if (deps.report === false) return;
  try {
    const path = await writeRunReport(runDir);
    deps.emit('report written', { path });
  } catch (error) {
    deps.emit('report not written', { error: error instanceof Error ? error.message : String(error) });
  }
}
