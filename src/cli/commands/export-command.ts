import { InvalidArgumentError, type Command } from 'commander';
import { loadConversations } from '../../evaluation/load-conversations.ts';
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
    .action(async (path: string, flags: { format: ExportFormat; out: string }) => {
      const loaded = await loadConversations(path);
      const result = await exportDataset(
        { conversations: loaded.conversations, rows: loaded.rows, path },
        flags.format,
        flags.out,
      );
      for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
      process.stdout.write(`wrote ${result.conversations} conversation(s) to ${result.path} (${result.format})\n`);
    });
}
