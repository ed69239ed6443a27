/**
 * `npm run bench` — every benchmark against the simulated endpoint, one table (metric, value,
 * target, pass/fail) with the machine; a full run also rewrites `bench/RESULTS.md`.
 *
 *   npm run bench                      full: 2,000 pairs per executor, 20,000 conversations (~10 min on 2 cores)
 *   npm run bench -- --quick           smoke: 200 pairs, 2,000 conversations; RESULTS.md untouched
 *   npm run bench -- --only efficiency,economy   a subset (efficiency, hangs, scale, economy)
 *   npm run bench -- --cpu-prof DIR    also write V8 CPU profiles of coordinators and workers
 *   npm run bench -- --no-write        never touch RESULTS.md
 *   npm run bench -- --only scale --scale-conversations 200000   the scale run at another size (RESULTS.md untouched)
 *
 * Needs `redis-server` on PATH (BullMQ runs) and Linux (/proc, for the workers' CPU and memory).
 * Benchmarks never run in `npm test`; tests never assert times.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureEfficiency, type EfficiencyMeasurement } from './bench-efficiency.ts';
import { measureScale, type ScaleMeasurement } from './bench-scale.ts';
import { measureEconomy, type EconomyMeasurement } from './bench-economy.ts';
import { measureHangs, type HangMeasurement } from './bench-hangs.ts';
import {
  localModelRows,
  measureLocalModel,
  renderLocalModelSection,
  writeLocalModelSection,
} from './bench-local-model.ts';
import { currentLoad, describeMachine } from './machine.ts';
import { formatTable, renderResultsMarkdown, type BenchRow } from './report-table.ts';
import { FULL_SCENARIO, QUICK_SCENARIO, type BenchScenario } from './scenarios.ts';

const BENCHMARKS = ['efficiency', 'hangs', 'scale', 'economy', 'local-model'] as const;
type BenchmarkName = (typeof BENCHMARKS)[number];

interface BenchArgs {
  quick: boolean;
  only: BenchmarkName[];
  cpuProfileDir?: string;
  write: boolean;
  /** `--scale-conversations N`: the scale run's size (growth read at N/10 and N); RESULTS.md untouched. */
  scaleConversations?: number;
}

function parseArgs(argv: string[]): BenchArgs {
  const args: BenchArgs = { quick: false, only: [...BENCHMARKS], write: true };
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    const value = () => {
      const next = argv[++index];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--quick') args.quick = true;
    else if (arg === '--no-write') args.write = false;
    else if (arg === '--cpu-prof') args.cpuProfileDir = resolve(value());
    else if (arg === '--scale-conversations') {
      const conversations = Number(value());
      if (!Number.isInteger(conversations) || conversations < 1000)
        throw new Error('--scale-conversations needs a whole number of at least 1000');
      args.scaleConversations = conversations;
      args.write = false;
    } else if (arg === '--only') {
      const names = value().split(',');
      const unknown = names.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
      if (unknown.length)
        throw new Error(`--only: unknown benchmark ${unknown.join(', ')}; choose from ${BENCHMARKS.join(', ')}`);
      args.only = names as BenchmarkName[];
    } else throw new Error(`unknown argument ${arg}; see bench/run-all.ts for the options`);
  }
  return args;
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
/** Targets are judged on the full run only: a `--quick` smoke run is too short (start-up and warm-up dominate). */
let judgeTargets = true;
const row = (section: string, metric: string, value: string, target = '–', pass: boolean | null = null): BenchRow =>
  judgeTargets || target === '–'
    ? { section, metric, value, target, pass }
    : { section, metric, value, target: `(full run) ${target}`, pass: null };

/** CPU per call of a run: the coordinator's, plus the workers' (BullMQ). */
const cpuPerCall = (measurement: EfficiencyMeasurement) =>
  measurement.coordinatorCpuMsPerCall + (measurement.workersCpuMsPerCall ?? 0);

/** The efficiency run of one executor, made `repeats` times: the run with the median CPU per call, and every run's CPU per call. */
interface RepeatedEfficiency {
  median: EfficiencyMeasurement;
  cpuPerCallRuns: number[];
}

async function measureRepeatedly(
  executor: 'in-process' | 'bullmq',
  scenario: BenchScenario,
  options: Parameters<typeof measureEfficiency>[2],
): Promise<RepeatedEfficiency> {
  const runs: EfficiencyMeasurement[] = [];
  for (let run = 1; run <= scenario.efficiency.repeats; run++) {
    const measurement = await measureEfficiency(executor, scenario, options);
    options.log(
      `  run ${run}/${scenario.efficiency.repeats}: efficiency ${fixed(measurement.efficiency, 3)}, ${fixed(cpuPerCall(measurement), 3)} ms CPU per call (load ${measurement.loadAverage})`,
    );
    runs.push(measurement);
  }
  const sorted = [...runs].sort((left, right) => cpuPerCall(left) - cpuPerCall(right));
  return { median: sorted[Math.floor((sorted.length - 1) / 2)], cpuPerCallRuns: runs.map(cpuPerCall) };
}

/** " (median of 3 runs: 0.41 / 0.45 / 0.50)" when there were several runs. */
function runsNote(repeated: RepeatedEfficiency): string {
  const values = repeated.cpuPerCallRuns;
  return values.length > 1
    ? `; median of ${values.length} runs: ${values.map((value) => fixed(value, 3)).join(' / ')}`
    : '';
}

function efficiencyRows(
  repeatedInProcess: RepeatedEfficiency | undefined,
  repeatedBullmq: RepeatedEfficiency | undefined,
): BenchRow[] {
  const inProcess = repeatedInProcess?.median;
  const bullmq = repeatedBullmq?.median;
  const rows: BenchRow[] = [];
  for (const [measurement, target, label] of [
    [inProcess, 0.98, 'in process'],
    [bullmq, 0.98, 'BullMQ, 4 workers'],
  ] as const) {
    if (!measurement) continue;
    rows.push(
      row(
        'efficiency',
        `${label}: achieved ÷ ideal calls/s (${measurement.pairs} pairs, ${measurement.calls} calls)`,
        fixed(measurement.efficiency, 3),
        `≥ ${target}`,
        measurement.efficiency >= target && measurement.failed === 0,
      ),
      row(
        'efficiency',
        `${label}: achieved / ideal calls/s`,
        `${fixed(measurement.achievedCallsPerSecond, 0)} / ${fixed(measurement.idealCallsPerSecond, 0)}`,
      ),
      row(
        'efficiency',
        `${label}: endpoint busy in the first 5 s / after / last 2 s`,
        busyShares(measurement.utilizationBySecond),
      ),
      row(
        'efficiency',
        `${label}: time ${measurement.executor === 'bullmq' ? 'workers' : 'the coordinator'} waited for a CPU (machine busy)`,
        `${fixed(measurement.cpuWaitShare * 100, 0)}%`,
      ),
    );
  }
  if (inProcess) {
    rows.push(
      row(
        'overhead',
        `in process: coordinator CPU per LLM call (whole run${runsNote(repeatedInProcess!)})`,
        `${fixed(inProcess.coordinatorCpuMsPerCall, 3)} ms`,
      ),
      row(
        'overhead',
        'in process: of which iteration phase',
        `${fixed(inProcess.coordinatorIterationCpuMsPerCall, 3)} ms`,
      ),
    );
  }
  if (bullmq) {
    const total = bullmq.coordinatorCpuMsPerCall + (bullmq.workersCpuMsPerCall ?? 0);
    rows.push(
      row(
        'overhead',
        `BullMQ: coordinator + 4 workers CPU per LLM call${runsNote(repeatedBullmq!) ? ` (${runsNote(repeatedBullmq!).slice(2)})` : ''}`,
        `${fixed(total, 3)} ms`,
      ),
      row(
        'overhead',
        'BullMQ: coordinator / workers per call',
        `${fixed(bullmq.coordinatorCpuMsPerCall, 3)} / ${fixed(bullmq.workersCpuMsPerCall ?? Number.NaN, 3)} ms`,
      ),
      row(
        'overhead',
        'BullMQ: redis-server CPU per call (not counted above)',
        `${fixed(bullmq.redisCpuMsPerCall ?? Number.NaN, 3)} ms`,
      ),
    );
  }
  const simulator = [inProcess, bullmq].filter((item): item is EfficiencyMeasurement => item !== undefined);
  if (simulator.length) {
    rows.push(
      row(
        'overhead',
        'simulated endpoint CPU per call (not persona-forge)',
        simulator.map((item) => `${fixed(item.simulatorCpuMsPerCall, 3)} ms`).join(' / '),
      ),
    );
  }
  return rows;
}

/** Mean busy share of the first 5 s, the seconds after them and the last 2 s (the last one partial). */
function busyShares(bySecond: readonly number[]): string {
  const mean = (values: readonly number[]) =>
    values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : Number.NaN;
  const whole = bySecond.slice(0, -1);
  return [mean(whole.slice(0, 5)), mean(whole.slice(5, -2)), mean(whole.slice(-2))]
    .map((value) => fixed(value, 2))
    .join(' / ');
}

function hangRows(hangs: HangMeasurement): BenchRow[] {
  const { baseline, withHangs } = hangs;
  const share = `${fixed(withHangs.hangShare * 100, 0)}%`;
  const copies = withHangs.faults;
  return [
    row(
      'hangs',
      `in process: wall time with ${share} of requests hanging ÷ without (${withHangs.pairs} pairs)`,
      fixed(hangs.wallRatio, 2),
      '≤ 1.5',
      hangs.wallRatio <= 1.5 && withHangs.failed === 0 && baseline.failed === 0,
    ),
    row(
      'hangs',
      'wall time without / with hangs (load average after each run)',
      `${fixed(baseline.wallMs / 1000, 1)} s (${baseline.loadAverage}) / ${fixed(withHangs.wallMs / 1000, 1)} s (${withHangs.loadAverage})`,
    ),
    row(
      'hangs',
      'requests hung / hedges sent / copies abandoned / retries after a timeout',
      `${withHangs.hung} / ${copies.hedges} / ${copies.abandoned} / ${copies.retries.timeout ?? 0}`,
    ),
    row(
      'hangs',
      'hedging cost: estimated prompt tokens of abandoned copies (share of all calls)',
      `${copies.abandoned_prompt_tokens.toLocaleString('en-US')} (${fixed((copies.abandoned / withHangs.calls) * 100, 1)}% of ${withHangs.calls} calls)`,
    ),
  ];
}

function scaleRows(scale: ScaleMeasurement): BenchRow[] {
  const [low, high] = scale.checkpoints;
  const coordinatorGrowth = scale.coordinator.rssMb[1] - scale.coordinator.rssMb[0];
  const workerGrowths = scale.workers.rssMb.map(([first, second]) => second - first);
  const worstWorkerGrowth = Math.max(...workerGrowths);
  const span = `${low.toLocaleString('en-US')} → ${high.toLocaleString('en-US')}`;
  return [
    row(
      'scale',
      `run: ${scale.accepted.toLocaleString('en-US')} of ${scale.conversations.toLocaleString('en-US')} conversations, ${scale.calls.toLocaleString('en-US')} calls, ${scale.failed} failed`,
      `${fixed(scale.wallMs / 1000, 0)} s`,
    ),
    row(
      'scale',
      `coordinator RSS growth ${span}`,
      `${fixed(coordinatorGrowth, 1)} MB (${fixed(scale.coordinator.rssMb[0], 0)} → ${fixed(scale.coordinator.rssMb[1], 0)})`,
      '< 50 MB',
      coordinatorGrowth < 50,
    ),
    row(
      'scale',
      `worker RSS growth ${span} (worst of 4, after a full GC)`,
      `${fixed(worstWorkerGrowth, 1)} MB`,
      '< 50 MB',
      worstWorkerGrowth < 50,
    ),
    row(
      'scale',
      `worker RSS growth ${span} before that GC (V8's committed heap; worst of 4)`,
      `${fixed(Math.max(...scale.workers.rssBeforeGcMb.map(([first, second]) => second - first)), 1)} MB`,
    ),
    row(
      'scale',
      'coordinator peak RSS: while pairs ran / whole run',
      `${fixed(scale.coordinator.peakRssDuringJobsMb, 0)} / ${fixed(scale.coordinator.peakRssMb, 0)} MB`,
    ),
    row('scale', 'worker peak RSS (each)', scale.workers.peakRssMb.map((value) => fixed(value, 0)).join(', ') + ' MB'),
    row('scale', 'Redis peak memory', `${fixed(scale.redis.peakMb, 1)} MB`),
    row(
      'scale',
      'Redis: response cache share at the end',
      `${fixed(scale.redis.cacheMb, 1)} MB (${scale.redis.cacheKeys.toLocaleString('en-US')} replies)`,
    ),
    row(
      'scale',
      `Redis used memory at ${span}`,
      `${fixed(scale.redis.usedMb[0], 1)} → ${fixed(scale.redis.usedMb[1], 1)} MB`,
    ),
    row('scale', `file cache index for as many replies (in-process runs)`, `${fixed(scale.fileCacheIndexMb, 1)} MB`),
    row(
      'scale',
      `Parquet export of ${scale.accepted.toLocaleString('en-US')} rows`,
      `${fixed(scale.parquetExportMs / 1000, 2)} s`,
    ),
    row('scale', 'end of run (pool, Parquet, manifest, card, report)', `${fixed(scale.finishWallMs / 1000, 1)} s`),
    row(
      'scale',
      'CPU per call: coordinator / workers',
      `${fixed(scale.coordinator.cpuMsPerCall, 3)} / ${fixed(scale.workers.cpuMsPerCall, 3)} ms`,
    ),
  ];
}

function economyRows(economy: EconomyMeasurement): BenchRow[] {
  const rows: BenchRow[] = [];
  const [perExpert] = economy.runs;
  for (const run of economy.runs) {
    const saving =
      run === perExpert ? '' : ` (${fixed((1 - run.callsPerAccepted / perExpert.callsPerAccepted) * 100, 0)}% fewer)`;
    const tokenSaving =
      run === perExpert ? '' : ` (${fixed((1 - run.tokensPerAccepted / perExpert.tokensPerAccepted) * 100, 0)}% fewer)`;
    if (run.panelNoise === 0) {
      rows.push(
        row(
          'economy',
          `${run.label}: LLM calls per accepted conversation (rankers)`,
          `${fixed(run.callsPerAccepted, 1)} (${fixed(run.rankerCallsPerAccepted, 1)})${saving}`,
        ),
        row(
          'economy',
          `${run.label}: tokens per accepted conversation (rankers)`,
          `${fixed(run.tokensPerAccepted, 0)} (${fixed(run.rankerTokensPerAccepted, 0)})${tokenSaving}`,
        ),
      );
    }
    if (run.agreement !== null) {
      rows.push(
        row(
          'economy',
          `${run.label}: same winner as per-expert`,
          `${fixed(run.agreement * 100, 1)}% of ${run.accepted} pairs`,
        ),
      );
    }
  }
  return rows;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const chosen: BenchScenario = args.quick ? QUICK_SCENARIO : FULL_SCENARIO;
  const conversations = args.scaleConversations;
  const scenario: BenchScenario =
    conversations === undefined
      ? chosen
      : {
          ...chosen,
          scale: { ...chosen.scale, conversations, checkpoints: [Math.round(conversations / 10), conversations] },
        };
  judgeTargets = !args.quick;
  const machine = describeMachine();
  const started = Date.now();
  const log = (message: string) =>
    process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
  const workDir = await mkdtemp(join(tmpdir(), 'persona-forge-bench-'));
  if (args.cpuProfileDir) await mkdir(args.cpuProfileDir, { recursive: true });
  const options = { workDir, cpuProfileDir: args.cpuProfileDir, log };
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  let localModelSection: string | undefined;
  try {
    if (args.only.includes('efficiency')) {
      const inProcess = await measureRepeatedly('in-process', scenario, options);
      const bullmq = await measureRepeatedly('bullmq', scenario, options);
      rows.push(...efficiencyRows(inProcess, bullmq));
      const endpoint = scenario.efficiency.endpoint;
      notes.push(
        'CPU per call depends on the regime. In the efficiency runs the endpoint sets the pace (~540 calls/s) and every process wakes up for each reply with cold caches, on cores shared with the simulator, Redis and the other processes ("waited for a CPU"); when the processes are CPU-bound (scale run, economy run) the same work costs 2–3 times less per call. Both are shown, without targets: what matters is that the endpoint stays saturated (efficiency), not microseconds of client CPU. Requests go through the openai SDK on undici (src/llm/openai/openai-connection.ts).',
        'On the 2-core VM these results come from (Linux HZ 250, tick CPU accounting, no IRQ time accounting), a wake-up of an idle Node process costs 100–220 µs of CPU as measured, against ~7 µs for a back-to-back socket write; paced CPU per call follows the number of wake-ups per call more than the work done, and falls when other load keeps the processes awake (events bunch up). Compare runs made at similar load averages.',
        `Efficiency runs: each executor is measured ${scenario.efficiency.repeats} time(s) in fresh processes; the rows show the run with the median CPU per call (all values in the overhead rows). ${scenario.efficiency.pairs} pairs, 1 iteration, 2 candidates, the paper panel (critique.panel: per-expert, round robin: 15 calls per pair), profiles.contradiction_check off; simulated endpoint ${endpoint.maxConcurrent} slots, ${endpoint.fixedLatencyMs} ms + ${endpoint.outputTokensPerSecond} output tokens/s per request; in process concurrency ${scenario.efficiency.concurrency}, max_in_flight ${scenario.efficiency.maxInFlight}; BullMQ ${scenario.efficiency.workers} workers x concurrency ${scenario.efficiency.workerConcurrency}, shared max in flight ${scenario.efficiency.maxInFlight}.`,
      );
    }
    if (args.only.includes('hangs')) {
      const hangs = await measureHangs(scenario, options);
      rows.push(...hangRows(hangs));
      notes.push(
        `Hang runs: the same ${scenario.hangs.pairs}-pair in-process run (1 iteration, 2 candidates, concurrency ${scenario.hangs.concurrency}, max_in_flight ${scenario.hangs.maxInFlight}, default llm settings: 120 s timeout, 10 retries, hedging) against the efficiency endpoint, once without faults and once with ${scenario.hangs.hangShare * 100}% of requests never answered (drawn by arrival number; a hung request takes no endpoint slot). A request past its deadline (2 × p95 of its role and model, at least 1 s) is hedged (another copy; the first answer wins), and a copy unanswered for a full deadline gets the next one, up to 5 in flight.`,
      );
    }
    if (args.only.includes('scale')) {
      const scale = await measureScale(scenario, options);
      rows.push(...scaleRows(scale));
      const endpoint = scenario.scale.endpoint;
      notes.push(
        "The coordinator's peak RSS over the whole run comes from the end of the run (pool update, Parquet export, dataset card and report.html read the rows back), not from the pairs; the growth rows are read while pairs run. Redis memory is almost all response cache (one entry per reply, kept 7 days). An in-process run keeps one file-cache index entry (~160 B) per reply instead, 16 replies per conversation with 2 candidates.",
        `Scale run: ${scenario.scale.conversations} pairs (1 iteration, 2 candidates), ${scenario.scale.workers} workers x concurrency ${scenario.scale.workerConcurrency}, shared max in flight ${scenario.scale.maxInFlight}; simulated endpoint ${endpoint.maxConcurrent} slots, ${endpoint.fixedLatencyMs} ms per request; response cache on (in Redis for BullMQ runs). RSS read after a full GC in the coordinator and (SIGUSR2, bench/worker-gc-on-signal.ts) in each worker, from /proc; the workers' reading before that GC is shown too: without it a worker's RSS follows V8's committed heap, which grows with the allocation rate while the live heap stays flat (28–37 MB after every major GC with --trace-gc, 28 MB at both checkpoints after the forced GC).`,
      );
    }
    if (args.only.includes('economy')) {
      const economy = await measureEconomy(scenario, options);
      rows.push(...economyRows(economy));
      const perExpert = economy.runs[0];
      rows.push(
        row(
          'overhead',
          `in process, endpoint not limiting: coordinator CPU per LLM call (economy per-expert run, ${economy.candidates} candidates)`,
          `${fixed(perExpert.coordinatorCpuMsPerCall, 3)} ms`,
        ),
      );
      notes.push(
        `Economy runs: ${economy.pairs} pairs x ${economy.candidates} candidates, in process, same seed and plan, so both panels judge identical candidates. The simulator answers every pairwise question with "more utterances wins" (ties by an order-free hash); the noisy run flips each dimension of a combined reply with probability ${scenario.economy.panelNoise}, drawn per order, so flipped orders become ties.`,
      );
    }
    if (args.only.includes('local-model')) {
      const local = await measureLocalModel({ quick: args.quick, log });
      rows.push(...localModelRows(local, row));
      localModelSection = renderLocalModelSection(
        local,
        `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      );
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }

  const sectionOrder = ['efficiency', 'overhead', 'hangs', 'scale', 'economy', 'local model'];
  rows.sort((left, right) => sectionOrder.indexOf(left.section) - sectionOrder.indexOf(right.section));
  const loadAtEnd = currentLoad();
  const note = `scenario ${scenario.name}; ${Math.round((Date.now() - started) / 1000)} s; load average at end ${loadAtEnd}`;
  process.stdout.write(`${formatTable(rows, machine, note)}\n`);
  if (!args.quick && args.write && args.only.length === BENCHMARKS.length) {
    const path = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
    // Sections of benchmarks run on their own (bench/bench-selection.ts, a pure simulation;
    // bench/run-scale-sizes.ts, synthetic run directories) are kept as they are.
    const previous = await readFile(path, 'utf8').catch(() => '');
    const keptSections = ['selection-bench', 'scale-size']
      .map((name) => new RegExp(`<!-- ${name}:start -->[\\s\\S]*<!-- ${name}:end -->`).exec(previous)?.[0])
      .filter((section): section is string => section !== undefined);
    const selectionSection = keptSections.length ? keptSections.join('\n\n') : undefined;
    await writeFile(
      path,
      (selectionSection ? (text: string) => `${text.trimEnd()}\n\n${selectionSection}\n` : (text: string) => text)(
        renderResultsMarkdown({
          rows,
          machine,
          command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
          startedAt: new Date(started).toISOString(),
          durationS: (Date.now() - started) / 1000,
          loadAverageAtEnd: loadAtEnd,
          notes,
        }),
      ),
    );
    log(`wrote ${path}`);
  }
  // The embedded-model section (bench/bench-local-model.ts) is written whenever it was measured in full.
  if (localModelSection && !args.quick && args.write) log(`wrote ${await writeLocalModelSection(localModelSection)}`);
}

await main();
