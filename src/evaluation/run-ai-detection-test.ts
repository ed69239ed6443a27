import pLimit from 'p-limit';
import type { LlmBackend } from '../llm/llm-backend.ts';
import type { EvaluatedConversation } from './compute-dataset-statistics.ts';
import type { DetectionSummary, DetectionTrial } from '../schemas/evaluation-result-schema.ts';
import { AiDetectionReplySchema, JUDGE_SCHEMA_NAMES } from '../schemas/judge-reply-schemas.ts';
import type { JudgePrompt } from './load-judge-prompts.ts';
import { buildDetectionPrompt } from './build-detection-prompt.ts';
import { callJudge, describeError, isFatalJudgeError, type JudgeCallSettings, type JudgeUsage } from './call-judge.ts';
import { pairWithReference } from './pair-with-reference.ts';
import { sampleJudgeGroups } from './sample-judge-groups.ts';
import { detectionOutcome, summarizeDetection } from './summarize-detection.ts';

/** Options of `runAiDetectionTest`. */
export interface AiDetectionOptions extends JudgeCallSettings {
  /** Seed of the sampling and the pairing with reference conversations. */
  seed: number;
  /** Conversations judged per iteration (or from a file). @defaultValue 50 */
  samplesPerGroup?: number;
  /** Trials run at once (two calls each). @defaultValue 4 */
  concurrency?: number;
}

export interface AiDetectionDeps {
  backend: LlmBackend;
  prompt: JudgePrompt;
  /** Usage of every judge call is added here. */
  usage: JudgeUsage;
}

export interface AiDetectionResult {
  overall: DetectionSummary;
  by_iteration: { iteration: number; summary: DetectionSummary }[];
  trials: DetectionTrial[];
}

/**
 * The paper's AI-detection ("Turing") test with an LLM judge. For each sampled conversation of
 * ours and its paired reference conversation (`pairWithReference`) the judge sees both, each with
 * its profiles, and names the AI-generated one — once with ours as A and once with ours as B.
 * lose = ours picked both times (the paper's "losing rate"), win = the reference picked both
 * times, tie = the picks follow the position. A failed call fails only its trial.
 */
export async function runAiDetectionTest(
  conversations: readonly EvaluatedConversation[],
  reference: readonly EvaluatedConversation[],
  deps: AiDetectionDeps,
  options: AiDetectionOptions,
): Promise<AiDetectionResult> {
  const groups = sampleJudgeGroups(conversations, options.samplesPerGroup ?? 50, options.seed, 'ai-detection');
  const sampled = groups.flatMap((group) => group.conversations);
  const references = pairWithReference(sampled, reference, options.seed);
  const limit = pLimit(options.concurrency ?? 4);
  let fatal: unknown;

  const judgeOnce = async (first: EvaluatedConversation, second: EvaluatedConversation) => {
    const { value } = await callJudge(
      deps.backend,
      buildDetectionPrompt(deps.prompt, first, second),
      AiDetectionReplySchema,
      JUDGE_SCHEMA_NAMES.aiDetection,
      options,
      deps.usage,
    );
    return value;
  };

  const trials = await Promise.all(
    sampled.map((ours, index) =>
      limit(async (): Promise<DetectionTrial> => {
        const theirs = references[index];
        const trial: DetectionTrial = {
          conversation_id: ours.id,
          reference_id: theirs.id,
          iteration: ours.iteration ?? null,
          picks: [null, null],
          outcome: 'failed',
          rationales: ['', ''],
          error: null,
        };
        if (fatal) {
          trial.error = 'not asked: an earlier judge call failed fatally';
          return trial;
        }
        try {
          const oursFirst = await judgeOnce(ours, theirs);
          trial.picks[0] = oursFirst.synthetic === 'A' ? 'ours' : 'reference';
          trial.rationales[0] = oursFirst.rationale;
          const oursSecond = await judgeOnce(theirs, ours);
          trial.picks[1] = oursSecond.synthetic === 'B' ? 'ours' : 'reference';
          trial.rationales[1] = oursSecond.rationale;
        } catch (error) {
          if (isFatalJudgeError(error)) fatal ??= error;
          trial.error = describeError(error);
        }
        trial.outcome = detectionOutcome(trial.picks);
        return trial;
      }),
    ),
  );
  if (fatal) throw fatal;

  return {
    overall: summarizeDetection(trials),
    by_iteration: groups
      .filter((group) => group.iteration !== null)
      .map((group) => ({
        iteration: group.iteration!,
        summary: summarizeDetection(trials.filter((trial) => trial.iteration === group.iteration)),
      })),
    trials,
  };
}
