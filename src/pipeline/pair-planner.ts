import { existsSync, readFileSync } from 'node:fs';
import type { LlmBackend } from '../llm/llm-backend.ts';
import { recordUsage } from '../llm/record-usage.ts';
import { computeRoleCost } from '../llm/compute-cost.ts';
import type { RunConfig } from '../schemas/run-config.ts';
import { PlannedPairSchema, type PlannedPair } from '../schemas/outcome-line.ts';
import { ManifestSchema, type Manifest } from '../schemas/manifest.ts';
import { emptyUsageByRole } from '../schemas/usage.ts';
import { openJsonlSink, type JsonlSink } from '../output/jsonl-sink.ts';
import { streamJsonl } from '../output/read-jsonl.ts';
import { planPairs } from './plan-pairs.ts';
import { PLANNING_CHUNK_PAIRS } from './profiles-planned-for.ts';
import { addUsage } from '../util/add-usage.ts';
import { totalTokens } from './iteration-tally.ts';
import type { BudgetGuard } from './budget-guard.ts';

/**
 * Owns `plan.jsonl`: the pairs of the run, planned up front (or in waves for `--target`) and read
 * back on resume, plus the LLM use of planning (contradiction checks), kept across resumes. The
 * plan stays on disk: the planner holds a count per iteration, and `pairsOf` streams the file, so
 * the coordinator's memory does not grow with the number of planned pairs.
 */
export class PairPlanner {
  /** Usage and cost of planning, for the manifest. */
  readonly planning: Manifest['planning'];
  /** The batch being planned: when and where this session started it, its size, how far it is. */
  private progress: { startedAt: number; startPairs: number; total: number; planned: number } | undefined;

  private constructor(
    /** Planned pairs per iteration. */
    private readonly counts: Map<number, number>,
    private readonly planPath: string,
    private readonly sink: JsonlSink,
    private readonly config: RunConfig,
    private readonly backend: LlmBackend,
    private readonly models: { generator: string; critic: string },
    private readonly emit: (event: string, fields: Record<string, unknown>) => void,
    private readonly signal: AbortSignal | undefined,
    planning: Manifest['planning'],
    private readonly budget: BudgetGuard | undefined,
    private readonly progressIntervalMs: number,
  ) {
    this.planning = planning;
  }

  static async open(
    paths: { plan: string; manifest: string },
    config: RunConfig,
    deps: {
      backend: LlmBackend;
      models: { generator: string; critic: string };
      emit: (event: string, fields: Record<string, unknown>) => void;
      signal?: AbortSignal;
      /**
       * Charged with every planning call (and, at open, with the planning of earlier sessions): when
       * a cap trips, planning stops at the next call and nothing of the unfinished batch is planned.
       * Its signal (which follows `signal`) stops planning too. @defaultValue none: planning is not capped
       */
      budget?: BudgetGuard;
      /** Least time between two `planning progress` events. @defaultValue 1000 */
      progressIntervalMs?: number;
    },
  ): Promise<PairPlanner> {
    const counts = new Map<number, number>();
    if (existsSync(paths.plan)) {
      for await (const { value } of streamJsonl(paths.plan, PlannedPairSchema)) countPair(counts, value.iteration);
    }
    const planning = previousPlanning(paths.manifest);
    deps.budget?.charge(totalTokens(planning.usage), planning.cost_usd);
    const planner = new PairPlanner(
      counts,
      paths.plan,
      await openJsonlSink(paths.plan),
      config,
      deps.backend,
      deps.models,
      deps.emit,
      deps.budget?.signal ?? deps.signal,
      planning,
      deps.budget,
      deps.progressIntervalMs ?? PLANNING_REPORT_INTERVAL_MS,
    );
    // Without --target every pair is planned up front: `pairs` per iteration. A resume whose
    // planning was stopped plans the chunks still missing.
    const runPairs = config.pairs * config.iterations;
    if (config.target === undefined && planner.size < runPairs) {
      await planner.add(runPairs, 'run', '', (index) => Math.floor(index / config.pairs) + 1, planner.size);
    }
    return planner;
  }

  /** Pairs planned so far, all iterations. */
  get size(): number {
    let total = 0;
    for (const count of this.counts.values()) total += count;
    return total;
  }

  /** Pairs planned so far for one iteration. */
  countOf(iteration: number): number {
    return this.counts.get(iteration) ?? 0;
  }

  /**
   * Streams the planned pairs of one iteration from `plan.jsonl`, in plan order: one pass over the
   * file, holding one chunk of it. Pairs planned while the stream runs may or may not be included.
   */
  async *pairsOf(iteration: number): AsyncGenerator<PlannedPair> {
    if (this.countOf(iteration) === 0) return;
    await this.sink.flush();
    for await (const { value } of streamJsonl(this.planPath, PlannedPairSchema)) {
      if (value.iteration === iteration) yield value;
    }
  }

  /** Plans `count` more pairs for one iteration (a `--target` wave). */
  addWave(iteration: number, count: number, wave: number): Promise<void> {
    return this.add(count, `it${iteration}-wave${wave}`, `i${iteration}w${wave}-`, () => iteration);
  }

  close(): Promise<void> {
    return this.sink.close();
  }

  /**
   * How far the batch under way is: pairs planned (finished profiles count as the share of their
   * chunk's pairs they make up), of how many, and the time left at this session's pace so far.
   */
  private progressFields(): { pairs_planned: number; pairs_total: number; eta_s: number | null } | undefined {
    const progress = this.progress;
    if (!progress) return undefined;
    const done = progress.planned - progress.startPairs;
    const elapsedMs = Date.now() - progress.startedAt;
    return {
      pairs_planned: Math.floor(progress.planned),
      pairs_total: progress.total,
      eta_s: done > 0 ? Math.round((elapsedMs * (progress.total - progress.planned)) / done / 1000) : null,
    };
  }

  /**
   * The planner's backend with every call counted in `planning` (so the live line and the manifest
   * see it at once) and charged to the budget as it returns; once the budget or the signal stopped
   * planning, no further call is sent.
   */
  private meteredBackend(): LlmBackend {
    const { backend, planning, budget, signal, config, models, emit, progressIntervalMs } = this;
    const progressOf = () => this.progressFields();
    let lastReport = Date.now();
    return {
      kind: backend.kind,
      modelFor: (role) => backend.modelFor(role),
      async complete(request) {
        signal?.throwIfAborted();
        const call = recordUsage(backend);
        try {
          return await call.complete(request);
        } finally {
          addUsage(planning.usage, call.usage);
          const costBefore = planning.cost_usd;
          planning.cost_usd = computeRoleCost(config.prices, models, planning.usage);
          budget?.charge(totalTokens(call.usage), planning.cost_usd - costBefore);
          // At most once a second, so a long planning phase shows its progress (and the CLI its live line).
          if (Date.now() - lastReport >= progressIntervalMs) {
            lastReport = Date.now();
            emit('planning progress', {
              calls: planning.usage.generator.calls + planning.usage.critic.calls,
              tokens: totalTokens(planning.usage),
              cost_usd: planning.cost_usd,
              ...progressOf(),
            });
          }
        }
      },
      // The wrapped backend is owned by the run.
      dispose: async () => {},
    };
  }

  /**
   * Plans one batch, in chunks of `PLANNING_CHUNK_PAIRS` in simple and synthesize mode (each appended to
   * `plan.jsonl` as it is planned), starting after the first `alreadyPlanned` pairs. Stopped by
   * the budget or a signal, the chunk under way plans nothing (a resume plans it again, its
   * finished calls free from the response cache) and the run ends as budget-exhausted or
   * interrupted; the calls made are counted in `planning` all the same.
   */
  private async add(
    count: number,
    label: string,
    idPrefix: string,
    iterationOf: (index: number) => number,
    alreadyPlanned = 0,
  ): Promise<void> {
    // seed-pairs takes the batch's pairs from the seed dataset at once (it holds the dataset anyway).
    const chunkPairs = this.config.personas.mode === 'seed-pairs' ? count : PLANNING_CHUNK_PAIRS;
    const progress = { startedAt: Date.now(), startPairs: alreadyPlanned, total: count, planned: alreadyPlanned };
    this.progress = progress;
    for (let chunk = Math.floor(alreadyPlanned / chunkPairs); chunk * chunkPairs < count; chunk++) {
      const chunkStart = chunk * chunkPairs;
      const chunkCount = Math.min(chunkPairs, count - chunkStart);
      // The first chunk keeps the batch's label and ids: a run of up to one chunk plans what it always did.
      const chunkLabel = chunk === 0 ? label : `${label}/chunk${chunk}`;
      let batch: Awaited<ReturnType<typeof planPairs>>;
      try {
        // Transient faults were retried by the LLM stack's retry policy; what still fails ends planning.
        batch = await planPairs(
          this.config,
          {
            count: chunkCount,
            label: chunkLabel,
            idPrefix: chunk === 0 ? idPrefix : `${idPrefix}c${chunk}-`,
            offset: this.size,
          },
          {
            backend: this.meteredBackend(),
            signal: this.signal,
            onProfiles: (done, total) => {
              progress.planned = Math.max(progress.planned, chunkStart + (done / Math.max(1, total)) * chunkCount);
            },
          },
        );
      } catch (error) {
        if (!this.signal?.aborted) throw error;
        this.emit('planning stopped', {
          label: chunkLabel,
          reason: this.budget?.reason ?? 'interrupted',
          tokens: totalTokens(this.planning.usage),
        });
        return;
      }
      const planned = batch.pairs
        .map((pair, index) => ({ iteration: iterationOf(chunkStart + index), pair }))
        .slice(Math.max(0, alreadyPlanned - chunkStart));
      await this.sink.append(planned);
      for (const item of planned) countPair(this.counts, item.iteration);
      progress.planned = chunkStart + chunkCount;
      this.emit('pairs planned', { pairs: planned.length, label: chunkLabel, profile_rejections: batch.rejections });
    }
  }
}

function countPair(counts: Map<number, number>, iteration: number): void {
  counts.set(iteration, (counts.get(iteration) ?? 0) + 1);
}

/** How often planning reports its progress (`planning progress` events), in ms. */
const PLANNING_REPORT_INTERVAL_MS = 1000;

function previousPlanning(manifestPath: string): Manifest['planning'] {
  const empty = { usage: emptyUsageByRole(), cost_usd: 0 };
  if (!existsSync(manifestPath)) return empty;
  const parsed = ManifestSchema.safeParse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  return parsed.success ? parsed.data.planning : empty;
}
