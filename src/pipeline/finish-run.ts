/**
 * Writes the human-facing files of a finished run (dataset card, report) when those modules are
 * available. Failures here never lose data: rows, Parquet and manifest are already written.
 */
export async function finishRun(
  runDir: string,
  deps: { emit: (event: string, fields: Record<string, unknown>) => void },
): Promise<void> {
  void runDir;
  void deps;
}
