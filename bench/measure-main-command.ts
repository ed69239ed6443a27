import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManifestSchema, type Manifest } from '../src/schemas/manifest.ts';

const CLI_ENTRY = fileURLToPath(new URL('../bin/persona-forge.js', import.meta.url));
const LOAD_SAMPLE_MS = 5_000;

/** The README main command (`persona-forge run` with the embedded defaults) run end to end on one model, timed. */
export interface MainCommandMeasurement {
  /** The command as run (the output directory and run id are the bench's own). */
  command: string;
  wallMs: number;
  exitCode: number | null;
  /** 1-minute load average at the start, at the end, and the mean of samples every 5 s. */
  loadAverage: { start: number; end: number; mean: number };
  /** The line the CLI printed before the first pair (`projected: …`), if any. */
  projection: string | undefined;
  manifest: Manifest | undefined;
  /** Last lines of stderr when the run failed or wrote no manifest. */
  stderrTail: string;
}

const load = () => Math.round(loadavg()[0] * 100) / 100;

/**
 * Runs `persona-forge run --model-path <modelPath>` (nothing else changed but the output place) in
 * a child process, samples the load average while it runs, and reads the run's `manifest.json`.
 */
export async function measureMainCommand(
  modelPath: string,
  log: (message: string) => void,
): Promise<MainCommandMeasurement> {
  const out = await mkdtemp(join(tmpdir(), 'persona-forge-bench-main-'));
  const args = ['run', '--model-path', modelPath, '--out', out, '--run-id', 'main'];
  const loads: number[] = [load()];
  const sampler = setInterval(() => loads.push(load()), LOAD_SAMPLE_MS);
  const started = performance.now();
  try {
    const env = { ...process.env };
    delete env.OPENAI_BASE_URL;
    delete env.OPENAI_API_KEY;
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk);
      for (const line of String(chunk).split('\n')) if (line.includes('projected:')) log(line.trim());
    });
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const wallMs = performance.now() - started;
    const manifest = await readFile(join(out, 'main', 'manifest.json'), 'utf8').then(
      (text) => ManifestSchema.parse(JSON.parse(text)),
      () => undefined,
    );
    const projection = projectionLine(stderr);
    log(
      `main command: exit ${exitCode} after ${(wallMs / 60_000).toFixed(1)} min; ${stdout.trim().split('\n')[0] ?? ''}`,
    );
    return {
      command: `persona-forge ${args.slice(0, 3).join(' ')}`,
      wallMs,
      exitCode,
      loadAverage: {
        start: loads[0],
        end: load(),
        mean: Math.round((loads.reduce((sum, value) => sum + value, 0) / loads.length) * 100) / 100,
      },
      projection,
      manifest,
      stderrTail: stderr.split('\n').slice(-6).join('\n'),
    };
  } finally {
    clearInterval(sampler);
    await rm(out, { recursive: true, force: true });
  }
}

/** The `projected: …` line: the `summary` of the JSON `run projected` log record, or a plain notice line. */
function projectionLine(stderr: string): string | undefined {
  for (const line of stderr.split('\n')) {
    if (line.startsWith('{')) {
      try {
        const record = JSON.parse(line) as { msg?: string; summary?: string };
        if (record.msg === 'run projected' && record.summary) return record.summary;
      } catch {
        // Not a log record.
      }
    }
    const plain = /projected: .*/.exec(line);
    if (plain && !line.startsWith('{')) return plain[0];
  }
  return undefined;
}

/** Markdown lines for RESULTS.md: wall time, calls, tokens and outcomes of the main command. */
export function renderMainCommand(measurement: MainCommandMeasurement): string[] {
  const number = (value: number | undefined) => (value === undefined ? 'n/a' : value.toLocaleString('en-US'));
  const { manifest } = measurement;
  const head = `\`${measurement.command}\` (embedded defaults, nothing else changed) on the shaped model, end to end through the CLI: **${(measurement.wallMs / 60_000).toFixed(1)} min** wall time, exit ${measurement.exitCode}, load average ${measurement.loadAverage.start} at start, ${measurement.loadAverage.mean} mean, ${measurement.loadAverage.end} at end.`;
  if (!manifest)
    return [head, '', 'No manifest was written; the end of stderr:', '', '```', measurement.stderrTail, '```'];
  const usage = manifest.totals.usage;
  const planning = manifest.planning.usage;
  const sent = usage.generator.prompt_tokens + usage.critic.prompt_tokens;
  const evaluated = (usage.generator.prompt_tokens_evaluated ?? 0) + (usage.critic.prompt_tokens_evaluated ?? 0);
  const pairs = manifest.totals.pairs;
  const pairMs = manifest.iterations.reduce((sum, iteration) => sum + iteration.duration_ms, 0);
  return [
    head,
    '',
    '| | value |',
    '| --- | --- |',
    `| status | ${manifest.status}${manifest.stop_reason ? ` (${manifest.stop_reason})` : ''} |`,
    `| pairs finished: accepted / rejected / failed | ${pairs}: ${manifest.totals.accepted} / ${manifest.totals.rejected} / ${manifest.totals.failed} |`,
    `| LLM calls: generator / critic (of which profile planning) | ${number(usage.generator.calls)} / ${number(usage.critic.calls)} (${number(planning.critic.calls + planning.generator.calls)}) |`,
    `| prompt tokens sent / evaluated | ${number(sent)} / ${number(evaluated)} (${(evaluated / Math.max(1, sent)).toFixed(2)}) |`,
    `| candidates removed, by check | ${removedBy(manifest) || 'none'} |`,
    `| generated tokens: generator / critic | ${number(usage.generator.completion_tokens)} / ${number(usage.critic.completion_tokens)} |`,
    `| wall time of the iterations per finished pair | ${pairs > 0 ? `${(pairMs / pairs / 1000).toFixed(0)} s` : 'n/a'} |`,
    `| projection printed before the run | ${measurement.projection ?? 'n/a'} |`,
  ];
}

/** E.g. `lint_parse 10, critic_safety 2`: candidates removed over all iterations, by the check that removed them. */
function removedBy(manifest: Manifest): string {
  const totals = new Map<string, number>();
  for (const iteration of manifest.iterations) {
    for (const [check, count] of Object.entries(iteration.filtered_by))
      totals.set(check, (totals.get(check) ?? 0) + count);
  }
  return [...totals].map(([check, count]) => `${check} ${count}`).join(', ');
}
