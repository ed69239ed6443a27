import type { ContextLength, IterationSummary, Manifest } from '../schemas/manifest.ts';
import type { ImportSummary } from '../schemas/import-summary.ts';
import type { ReplyParsing } from '../schemas/outcome-line.ts';
import { addReplyParsing } from '../util/add-reply-parsing.ts';
import { SCHEMA_VERSION } from '../schemas/dataset-row.ts';
import { emptyUsageByRole } from '../schemas/usage.ts';
import { addUsage } from '../util/add-usage.ts';
import { PACKAGE_VERSION } from '../util/package-version.ts';

export interface ManifestInput {
  runId: string;
  status: Manifest['status'];
  createdAt: string;
  finishedAt: string | null;
  fingerprint: string;
  executor: string;
  backend: string;
  models: { generator: string; critic: string };
  promptHash: string;
  criticHashes: Record<string, string>;
  iterations: IterationSummary[];
  planning: Manifest['planning'];
  stopReason: string | null;
  /** What reading `personas.source` imported, repaired and skipped. @defaultValue null (no source) */
  personasImport?: ImportSummary | null;
  /** The context length prompts were fitted to and its source. @defaultValue absent */
  contextLength?: ContextLength;
}

/** Assembles `manifest.json` from the per-iteration summaries (totals are derived, never stored twice). */
export function buildManifest(input: ManifestInput): Manifest {
  const usage = emptyUsageByRole();
  const totals = { pairs: 0, accepted: 0, rejected: 0, failed: 0, candidates: 0, cost_usd: input.planning.cost_usd, duration_ms: 0 };
  addUsage(usage, input.planning.usage);
  let replyParsing: ReplyParsing | undefined;
  let fewShot: { planned: number; used: number } | undefined;
  for (const iteration of input.iterations) {
    addUsage(usage, iteration.usage);
    totals.pairs += iteration.pairs;
    totals.accepted += iteration.accepted;
    totals.rejected += iteration.rejected;
    totals.failed += iteration.failed;
    totals.candidates += iteration.candidates;
    totals.cost_usd += iteration.cost_usd;
    totals.duration_ms += iteration.duration_ms;
    if (iteration.reply_parsing) replyParsing = addReplyParsing(replyParsing, iteration.reply_parsing);
    if (iteration.few_shot) {
      fewShot ??= { planned: 0, used: 0 };
      fewShot.planned += iteration.few_shot.planned;
      fewShot.used += iteration.few_shot.used;
    }
  }
  return {
    run_id: input.runId,
    schema_version: SCHEMA_VERSION,
    status: input.status,
    created_at: input.createdAt,
    finished_at: input.finishedAt,
    config_fingerprint: input.fingerprint,
    executor: input.executor,
    backend: input.backend,
    models: input.models,
    versions: {
      persona_forge: PACKAGE_VERSION,
      node: process.version,
      prompt_hash: input.promptHash,
      critic_hashes: input.criticHashes,
    },
    iterations: input.iterations,
    planning: input.planning,
    totals: {
      ...totals,
      usage,
      calls_per_accepted:
        totals.accepted > 0
          ? { generator: usage.generator.calls / totals.accepted, critic: usage.critic.calls / totals.accepted }
          : null,
      ...(replyParsing && { reply_parsing: replyParsing }),
      ...(fewShot && { few_shot: fewShot }),
    },
    stop_reason: input.stopReason,
    personas_import: input.personasImport ?? null,
    ...(input.contextLength && { context_length: input.contextLength }),
  };
}
