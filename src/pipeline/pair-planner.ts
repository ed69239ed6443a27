import { existsSync, readFileSync } from 'node:fs';
import type { LlmBackend } from '../llm/llm-backend.ts';
import { recordUsage } from '../llm/record-usage.ts';
import { computeRoleCost } from '../llm/compute-cost.ts';
import type { RunConfig } from '../schemas/run-config.ts';
import { PlannedPairSchema, type PlannedPair } from '../schemas/outcome-line.ts';
import { ManifestSchema, type Manifest } from '../schemas/manifest.ts';
import { emptyUsageByRole } from '../schemas/usage.ts';
import { openJsonlSink, type JsonlSink } from '../output/jsonl-sink.ts';
import { readJsonl } from '../output/read-jsonl.ts';
import { planPairs } from './plan-pairs.ts';
import { addUsage } from '../util/add-usage.ts';
import { totalTokens } from './iteration-tally.ts';
import type { BudgetGuard } from './budget-guard.ts';

/**
 * Owns `plan.jsonl`: the pairs of the run, planned up front (or in waves for `--target`) and read
 * back on resume, plus the LLM use of planning (contradiction checks), kept across resumes.
 */
export class PairPlanner {
  /** Usage and cost of planning, for the manifest. */
  readonly planning: Manifest['planning'];

  private constructor(
    private readonly plan: PlannedPair[],
    private readonly sink: JsonlSink,
    private readonly config: RunConfig,
    private readonly backend: LlmBackend,
    private readonly models: { generator: string; critic: string },
    private readonly emit: (event: string, fields: Record<string, unknown>) => void,
    private readonly signal: AbortSignal | undefined,
    planning: Manifest['planning'],
    private readonly budget: BudgetGuard | undefined,
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
    },
  ): Promise<PairPlanner> {
    const plan = existsSync(paths.plan) ? await readJsonl(paths.plan, PlannedPairSchema) : [];
    const planning = previousPlanning(paths.manifest);
    deps.budget?.charge(totalTokens(planning.usage), planning.cost_usd);
    const planner = new PairPlanner(
      plan,
      await openJsonlSink(paths.plan),
      config,
      deps.backend,
      deps.models,
      deps.emit,
      deps.budget?.signal ?? deps.signal,
      planning,
      deps.budget,
    );
    // Without --target every pair is planned at once: `pairs` per iteration.
    if (plan.length === 0 && config.target === undefined) {
      await planner.add(config.pairs * config.iterations, 'run', '', (index) => Math.floor(index / config.pairs) + 1);
    }
    return planner;
  }

  get size(): number {
    return this.plan.length;
  }

  pairsOf(iteration: number): PlannedPair[] {
    return this.plan.filter((item) => item.iteration === iteration);
  }

  /** Plans `count` more pairs for one iteration (a `--target` wave). */
  addWave(iteration: number, count: number, wave: number): Promise<void> {
    return this.add(count, `it${iteration}-wave${wave}`, `i${iteration}w${wave}-`, () => iteration);
  }

  close(): Promise<void> {
    return this.sink.close();
  }

  /**
   * The planner's backend with every call counted in `planning` (so the live line and the manifest
   * see it at once) and charged to the budget as it returns; once the budget or the signal stopped
   * planning, no further call is sent.
   */
  private meteredBackend(): LlmBackend {
    const { backend, planning, budget, signal, config, models, emit } = this;
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
          if (Date.now() - lastReport >= PLANNING_REPORT_INTERVAL_MS) {
            lastReport = Date.now();
            emit('planning progress', {
              calls: planning.usage.generator.calls + planning.usage.critic.calls,
              tokens: totalTokens(planning.usage),
              cost_usd: planning.cost_usd,
            });
          }
        }
      },
      // The wrapped backend is owned by the run.
      dispose: async () => {},
    };
  }

  /**
   * Plans one batch. Stopped by the budget or a signal, it plans nothing (a resume plans the batch
   * again, its finished calls free from the response cache) and the run ends as budget-exhausted or
   * interrupted; the calls made are counted in `planning` all the same.
   */
  private async add(
    count: number,
    label: string,
    idPrefix: string,
    iterationOf: (index: number) => number,
  ): Promise<void> {
    let batch: Awaited<ReturnType<typeof planPairs>>;
    try {
      // Transient faults were retried by the LLM stack's retry policy; what still fails ends planning.
      batch = await planPairs(
        this.config,
        { count, label, idPrefix, offset: this.plan.length },
        { backend: this.meteredBackend(), signal: this.signal },
      );
    } catch (error) {
      if (!this.signal?.aborted) throw error;
      this.emit('planning stopped', {
        label,
        reason: this.budget?.reason ?? 'interrupted',
        tokens: totalTokens(this.planning.usage),
      });
      return;
    }
    const planned = batch.pairs.map((pair, index) => ({ iteration: iterationOf(index), pair }));
    this.plan.push(...planned);
    await this.sink.append(planned);
    this.emit('pairs planned', { pairs: planned.length, label, profile_rejections: batch.rejections });
  }
}

/** How often planning reports its progress (`planning progress` events), in ms. */
const PLANNING_REPORT_INTERVAL_MS = 1000;

function previousPlanning(manifestPath: string): Manifest['planning'] {
  const empty = { usage: emptyUsageByRole(), cost_usd: 0 };
  if (!existsSync(manifestPath)) return empty;
  const parsed = ManifestSchema.safeParse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  return parsed.success ? parsed.data.planning : empty;
}
