import { basename, dirname, join } from 'node:path';
import type { LlmBackend } from '../llm/llm-backend.ts';
import { writeJsonAtomic } from '../output/write-json-atomic.ts';
import { PACKAGE_VERSION } from '../util/package-version.ts';
import { computeDatasetStatistics, type EvaluatedConversation } from './compute-dataset-statistics.ts';
import {
  EvaluationResultSchema,
  type EvaluationResult,
  type JudgeResult,
} from '../schemas/evaluation-result-schema.ts';
import { loadConversations, type LoadedConversations } from './load-conversations.ts';
import { loadJudgePrompts } from './load-judge-prompts.ts';
import { emptyJudgeUsage } from './call-judge.ts';
import { runAiDetectionTest } from './run-ai-detection-test.ts';
import { runFaithfulnessTest } from './run-faithfulness-test.ts';
import type { DistractorCounts } from './plan-faithfulness-trial.ts';
import { STATISTIC_DEFINITIONS } from './statistic-definitions.ts';

export type JudgeProtocol = 'ai-detection' | 'faithfulness';

/** LLM-judge settings of `evaluateDataset`. */
export interface JudgeOptions {
  /** Backend whose `critic` role answers the judge prompts. */
  backend: LlmBackend;
  /** Seed of every sampling, pairing and shuffling choice. @defaultValue 1 */
  seed?: number;
  /** Conversations judged per iteration (or from a file). @defaultValue 50 */
  samplesPerGroup?: number;
  /** Protocols to run. @defaultValue ['ai-detection', 'faithfulness'] */
  protocols?: JudgeProtocol[];
  /** Trials judged at once. @defaultValue 4 */
  concurrency?: number;
  /** Judge temperature. @defaultValue 0 */
  temperature?: number;
  /** Maximum output tokens per judge reply. @defaultValue 800 */
  maxOutputTokens?: number;
  /** Faithfulness distractors by kind. @defaultValue { negated: 1, random: 2, contradicting: 1 } */
  distractors?: DistractorCounts;
  /** Directory holding the judge prompt files. @defaultValue `src/evaluation/prompts` */
  promptsDirectory?: string;
}

/** Options of `evaluateDataset`. */
export interface EvaluateDatasetOptions {
  /** Run directory or dataset file (our JSONL or Parquet, SPC CSV, Persona-Chat text). */
  input: string;
  /** Reference dataset file compared side by side (and against which the AI-detection test runs). */
  reference?: string;
  /** Run the LLM-judge protocols. Statistics only when absent. */
  judge?: JudgeOptions;
  /**
   * Where to write the result.
   * @defaultValue `<run dir>/evaluation.json`, or `<file>.evaluation.json` beside a file
   */
  outputPath?: string;
  /** Called with short progress messages (`judging ai-detection: 40 trials`). */
  onProgress?: (message: string) => void;
  /**
   * Stop with an `InputError` naming `file:line` at the first record of `input` or `reference` that
   * cannot be imported, instead of skipping it (skips are counted in `dataset.import_notes`).
   * @defaultValue false
   */
  strict?: boolean;
}

/** Default output location for an input path. */
export function defaultEvaluationPath(loaded: Pick<LoadedConversations, 'kind' | 'path'>): string {
  if (loaded.kind === 'run') return join(loaded.path, 'evaluation.json');
  return join(dirname(loaded.path), `${basename(loaded.path).replace(/\.[^.]+$/, '')}.evaluation.json`);
}

/**
 * Measures a run or a dataset file: corpus statistics (also per iteration for a run, and for the
 * reference side by side) and, with `judge`, the AI-detection and faithfulness protocols. Writes
 * `evaluation.json` (validated) and returns it.
 */
export async function evaluateDataset(
  options: EvaluateDatasetOptions,
): Promise<{ result: EvaluationResult; outputPath: string }> {
  const progress = options.onProgress ?? (() => {});
  const dataset = await loadConversations(options.input, { strict: options.strict });
  const reference = options.reference ? await loadConversations(options.reference, { strict: options.strict }) : null;
  progress(
    `read ${dataset.conversations.length} conversations${reference ? ` and ${reference.conversations.length} reference conversations` : ''}`,
  );

  const result: EvaluationResult = {
    schema_version: 1,
    created_at: new Date().toISOString(),
    persona_forge_version: PACKAGE_VERSION,
    dataset: describeInput(dataset),
    reference: reference ? describeInput(reference) : null,
    definitions: STATISTIC_DEFINITIONS,
    statistics: {
      dataset: computeDatasetStatistics(dataset.conversations),
      reference: reference ? computeDatasetStatistics(reference.conversations) : null,
      by_iteration: groupByIteration(dataset.conversations).map(([iteration, conversations]) => ({
        iteration,
        statistics: computeDatasetStatistics(conversations),
      })),
    },
    judge: options.judge
      ? await runJudge(dataset.conversations, reference?.conversations ?? null, options.judge, progress)
      : null,
  };

  const outputPath = options.outputPath ?? defaultEvaluationPath(dataset);
  const validated = EvaluationResultSchema.parse(result);
  await writeJsonAtomic(outputPath, validated);
  return { result: validated, outputPath };
}

async function runJudge(
  conversations: readonly EvaluatedConversation[],
  reference: readonly EvaluatedConversation[] | null,
  judge: JudgeOptions,
  progress: (message: string) => void,
): Promise<JudgeResult> {
  const prompts = await loadJudgePrompts(judge.promptsDirectory);
  const protocols = judge.protocols ?? ['ai-detection', 'faithfulness'];
  const usage = emptyJudgeUsage();
  const settings = {
    seed: judge.seed ?? 1,
    samplesPerGroup: judge.samplesPerGroup ?? 50,
    concurrency: judge.concurrency ?? 4,
    temperature: judge.temperature ?? 0,
    maxOutputTokens: judge.maxOutputTokens ?? 800,
  };
  let aiDetection: JudgeResult['ai_detection'] = null;
  let aiDetectionSkipped: string | null = null;
  if (!protocols.includes('ai-detection')) aiDetectionSkipped = 'not requested';
  else if (!reference || reference.length === 0) aiDetectionSkipped = 'no reference dataset (pass --reference FILE)';
  else {
    progress('judging: AI-detection test');
    aiDetection = await runAiDetectionTest(
      conversations,
      reference,
      { backend: judge.backend, prompt: prompts.aiDetection, usage },
      settings,
    );
  }
  let faithfulness: JudgeResult['faithfulness'] = null;
  if (protocols.includes('faithfulness')) {
    progress('judging: faithfulness test');
    faithfulness = await runFaithfulnessTest(
      conversations,
      {
        backend: judge.backend,
        judgePrompt: prompts.faithfulness,
        distractorPrompt: prompts.faithfulnessDistractors,
        usage,
      },
      { ...settings, distractors: judge.distractors },
    );
  }
  return {
    model: judge.backend.modelFor('critic'),
    seed: settings.seed,
    samples_per_group: settings.samplesPerGroup,
    prompt_hashes: Object.fromEntries(Object.values(prompts).map((prompt) => [prompt.name, prompt.hash])),
    ai_detection: aiDetection,
    ai_detection_skipped: aiDetectionSkipped,
    faithfulness,
    usage,
  };
}

function describeInput(loaded: LoadedConversations): EvaluationResult['dataset'] {
  return { path: loaded.path, kind: loaded.kind, run_id: loaded.runId, import_notes: loaded.importSummary };
}

function groupByIteration(conversations: readonly EvaluatedConversation[]): [number, EvaluatedConversation[]][] {
  const groups = new Map<number, EvaluatedConversation[]>();
  for (const conversation of conversations) {
    if (conversation.iteration === undefined) continue;
    const group = groups.get(conversation.iteration);
    if (group) group.push(conversation);
    else groups.set(conversation.iteration, [conversation]);
  }
  return [...groups.entries()].sort(([left], [right]) => left - right);
}
