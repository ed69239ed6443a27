import type { MachineInfo } from './machine.ts';

/** One line of the benchmark table. `pass` is null for figures without a target. */
export interface BenchRow {
  section: string;
  metric: string;
  value: string;
  target: string;
  pass: boolean | null;
}

export const passText = (pass: boolean | null) => (pass === null ? '' : pass ? 'pass' : 'FAIL');

/** The table as printed by `npm run bench`: machine first, then one aligned row per metric. */
export function formatTable(rows: readonly BenchRow[], machine: MachineInfo, note: string): string {
  const header = ['metric', 'value', 'target', 'result'];
  const body = rows.map((row) => [`${row.section}: ${row.metric}`, row.value, row.target, passText(row.pass)]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  return [
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.totalMemoryGb} GB, Node ${machine.nodeVersion} (${machine.platform}); load average at start ${machine.loadAverageAtStart}`,
    note,
    '',
    line(header),
    line(widths.map((width) => '-'.repeat(width))),
    ...body.map(line),
  ].join('\n');
}

/** `bench/RESULTS.md`: the latest full results, the machine and the command. */
export function renderResultsMarkdown(input: {
  rows: readonly BenchRow[];
  machine: MachineInfo;
  command: string;
  startedAt: string;
  durationS: number;
  loadAverageAtEnd: number;
  notes: readonly string[];
}): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const lines = [
    '# Benchmark results',
    '',
    'The latest `npm run bench` (written by `bench/run-all.ts`; `--quick` runs never overwrite it).',
    '',
    `- command: \`${input.command}\``,
    `- date: ${input.startedAt}, duration ${Math.round(input.durationS)} s`,
    `- machine: ${input.machine.cpuModel}, ${input.machine.cores} cores, ${input.machine.totalMemoryGb} GB RAM, Node ${input.machine.nodeVersion}, ${input.machine.platform}`,
    `- load average (1 min) at start ${input.machine.loadAverageAtStart}, at end ${input.loadAverageAtEnd}`,
    '',
    '| metric | value | target | result |',
    '|---|---|---|---|',
    ...input.rows.map(
      (row) =>
        `| ${cell(`${row.section}: ${row.metric}`)} | ${cell(row.value)} | ${cell(row.target)} | ${passText(row.pass)} |`,
    ),
    '',
    ...(input.notes.length ? ['## Notes', '', ...input.notes.map((note) => `- ${note}`), ''] : []),
  ];
  return lines.join('\n');
}
