import { InvalidArgumentError, type Command } from 'commander';
import { loadConversations } from '../../evaluation/load-conversations.ts';
import { formatImportSummary, formatImportWarnings } from '../../personas/importers/format-import-summary.ts';
import { EXPORT_FORMATS, exportDataset, type ExportFormat } from '../../output/export-dataset.ts';

function exportFormat(value: string): ExportFormat {
  if (!(EXPORT_FORMATS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`Expected one of ${EXPORT_FORMATS.join(', ')}, got "${value}".`);
  }
  return value as ExportFormat;
}

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('Write a run or dataset file as SPC CSV, Persona-Chat text, JSONL or Parquet')
    .argument('<path>', 'run directory, or a dataset file: our JSONL or Parquet, SPC CSV, Persona-Chat text')
    .requiredOption('--format <format>', `one of ${EXPORT_FORMATS.join(', ')}`, exportFormat)
    .requiredOption('--out <file>', 'output file')
    .option('--strict', 'stop (exit 2) at the first record that cannot be imported instead of skipping it')
    .action(async (path: string, flags: { format: ExportFormat; out: string; strict?: boolean }) => {
      const loaded = await loadConversations(path, { strict: flags.strict });
      if (loaded.importSummary) {
        for (const warning of formatImportWarnings(loaded.importSummary)) process.stderr.write(`${warning}\n`);
        process.stderr.write(`${formatImportSummary(loaded.importSummary)}\n`);
      }
      const result = await exportDataset(
        { conversations: loaded.conversations, rows: loaded.rows, path },
        flags.format,
        flags.out,
      );
      for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
      process.stdout.write(`wrote ${result.conversations} conversation(s) to ${result.path} (${result.format})\n`);
    });
}
