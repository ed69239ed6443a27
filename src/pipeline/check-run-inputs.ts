import type { LlmBackend } from '../llm/llm-backend.ts';
import type { RunConfig } from '../schemas/run-config.ts';
import type { PoolRecord } from '../schemas/conversation.ts';
import type { ImportSummary } from '../schemas/import-summary.ts';
import type { ContextLength } from '../schemas/manifest.ts';
import type { PairJobContext } from '../schemas/run-context.ts';
import { loadPromptTemplate } from '../generation/load-prompt-template.ts';
import { checkGeneratorPromptFits } from '../generation/check-generator-prompt-fits.ts';
import { formatRunProjection, projectRun } from './project-run.ts';
import { loadCritics } from '../critique/load-critics.ts';
import { loadCombinedPanel } from '../critique/combined-panel-file.ts';
import { loadSeedConversations } from '../personas/load-seed-conversations.ts';
import { defaultSeedPaths, loadSeedAttributes } from '../personas/load-seed-attributes.ts';
import { importDatasetWithNotes } from '../personas/importers/import-dataset.ts';
import { checkContradictionCheckFits } from '../personas/check-contradiction-check-fits.ts';
import { loadContradictionTemplates } from '../personas/load-contradiction-templates.ts';
import { DEFAULT_CONTRADICTION_BATCH } from '../personas/create-batched-contradiction-check.ts';

/** A run's inputs, read and checked. */
export interface RunInputs {
  /** What every pair job needs besides the LLM (template, enabled critics, combined panel). */
  context: PairJobContext;
  /** Pool version 0: the seed conversations (or those of `personas.source`). */
  seedPool: PoolRecord[];
  /** What reading `personas.source` imported, repaired and skipped; null without a source. */
  personasImport: ImportSummary | null;
  models: { generator: string; critic: string };
  /** The adapter the run uses: the one given, or the one `beforeFitting` returned. */
  backend: LlmBackend;
  /** The context length prompts are fitted to and its source. */
  contextLength: ContextLength;
}

/**
 * Everything that can be wrong with a run's input, checked before the run directory exists and
 * before the first LLM call: the generator template, the critics and panel prompt, the seed
 * dataset (a bad record is reported, or with `personas.strict` is the exit-2 error), the seed
 * attributes, and whether the generator prompt and (with `profiles.contradiction_check`) one
 * contradiction check of profile planning fit the model's context.
 */
export async function checkRunInputs(
  config: RunConfig,
  givenAdapter: LlmBackend,
  emit: (event: string, fields: Record<string, unknown>) => void,
  beforeFitting?: () => Promise<LlmBackend | void>,
): Promise<RunInputs> {
  const context = await loadPairJobContext(config);
  // The seed dataset is read once here; pair planning reads it again, silently.
  const sourceImport = config.personas.source
    ? await importDatasetWithNotes(config.personas.source, { strict: config.personas.strict })
    : undefined;
  if (sourceImport) {
    for (const skipped of sourceImport.summary.skipped_records) {
      emit('seed record skipped', { file: sourceImport.summary.path, ...skipped });
    }
    const { path, rows_read, imported, repaired, repaired_by_kind, skipped, skipped_by_reason, duplicates } =
      sourceImport.summary;
    emit('seed dataset imported', {
      path,
      rows_read,
      imported,
      repaired,
      repaired_by_kind,
      skipped,
      skipped_by_reason,
      duplicates,
    });
  }
  const seedPool =
    sourceImport && config.personas.pool_from_source
      ? sourceImport.dataset.conversations
      : await loadSeedConversations(config.seeds.conversations ?? defaultSeedPaths().conversations);
  const attributes =
    config.personas.mode !== 'seed-pairs'
      ? await loadSeedAttributes(config.seeds.attributes ?? defaultSeedPaths().attributes)
      : [];
  // Checks that need the endpoint (the CLI's GET /models probe) come once the files are known good;
  // the adapter they return knows the context length the endpoint publishes.
  const adapter = (await beforeFitting?.()) ?? givenAdapter;
  const contextLength = contextLengthOf(adapter);
  emit('context length', { context_tokens: contextLength.tokens, source: contextLength.source });
  // The generator prompt must fit the model's context with no few-shot example (else exit 2).
  const promptFit = checkGeneratorPromptFits(
    context.template,
    {
      fewShot: config.generation.few_shot,
      maxOutputTokens: config.llm.max_output_tokens,
      targetMinTurns: config.generation.target_min_turns,
      targetMaxTurns: config.generation.target_max_turns,
    },
    adapter,
    seedPool,
  );
  if (promptFit.fewShotThatFit < config.generation.few_shot) {
    emit('few-shot examples fitted to the context', {
      context_tokens: promptFit.contextTokens,
      few_shot: config.generation.few_shot,
      fit_with_largest_examples: promptFit.fewShotThatFit,
    });
  }
  // Profile planning's contradiction check (simple and synthesize; seed-pairs checks nothing) must
  // fit the context one check per call (else exit 2).
  if (config.personas.mode !== 'seed-pairs' && config.profiles.contradiction_check) {
    const maxBatch = config.profiles.contradiction_batch ?? DEFAULT_CONTRADICTION_BATCH;
    const checkFit = checkContradictionCheckFits(
      { ...(await loadContradictionTemplates({})), maxOutputTokens: config.llm.critic_max_output_tokens },
      { attributesPerProfile: config.profiles.attributes_per_profile, maxBatch },
      adapter,
      attributes,
    );
    if (checkFit.checksPerCallThatFit < maxBatch) {
      emit('contradiction checks fitted to the context', {
        context_tokens: checkFit.contextTokens,
        contradiction_batch: maxBatch,
        fit_with_longest_attributes: checkFit.checksPerCallThatFit,
      });
    }
  }
  // Calls, tokens and (on the embedded model) time, printed before the first pair starts.
  const projection = projectRun(config, {
    generatorPromptTokens: promptFit.promptTokens,
    critics: {
      filters: context.critics.filter((critic) => critic.kind === 'filter').length,
      rankers: context.critics.filter((critic) => critic.kind === 'pairwise').length,
    },
    local: adapter.kind === 'llama.cpp',
    contextLength,
  });
  emit('run projected', { ...projection, summary: formatRunProjection(projection) });
  return {
    context,
    seedPool,
    personasImport: sourceImport?.summary ?? null,
    models: { generator: adapter.modelFor('generator'), critic: adapter.modelFor('critic') },
    backend: adapter,
    contextLength,
  };
}

/** The context length of an adapter and where it came from (a length without a source is the model's own). */
function contextLengthOf(adapter: LlmBackend): ContextLength {
  if (adapter.contextTokens === undefined) return { tokens: null, source: 'none' };
  return { tokens: adapter.contextTokens, source: adapter.contextSource ?? 'model' };
}

/** The generator template, the enabled critics and (for `critique.panel: combined`) the panel prompt. */
async function loadPairJobContext(config: RunConfig): Promise<PairJobContext> {
  const template = await loadPromptTemplate(config.generation.template);
  const critics = (await loadCritics({ overrideDir: config.critique.critics_dir })).filter((critic) => critic.enabled);
  const panel = config.critique.panel === 'combined' ? await loadCombinedPanel() : undefined;
  return { config, critics, template, ...(panel && { panel }) };
}
