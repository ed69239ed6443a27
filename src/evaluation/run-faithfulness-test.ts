import pLimit from 'p-limit';
import type { LlmBackend } from '../llm/llm-backend.ts';
import { deriveRandom } from '../util/create-random.ts';
import type { EvaluatedConversation } from './compute-dataset-statistics.ts';
import type { FaithfulnessSummary, FaithfulnessTrial } from '../schemas/evaluation-result-schema.ts';
import {
  FaithfulnessDistractorsReplySchema,
  FaithfulnessReplySchema,
  JUDGE_SCHEMA_NAMES,
} from '../schemas/judge-reply-schemas.ts';
import type { JudgePrompt } from './load-judge-prompts.ts';
import { buildDistractorPrompt, buildFaithfulnessPrompt } from './build-faithfulness-prompts.ts';
import { callJudge, describeError, isFatalJudgeError, type JudgeCallSettings, type JudgeUsage } from './call-judge.ts';
import { assembleFaithfulnessItems, planFaithfulnessTrial, type DistractorCounts } from './plan-faithfulness-trial.ts';
import { sampleJudgeGroups } from './sample-judge-groups.ts';
import { summarizeFaithfulness } from './summarize-faithfulness.ts';

/** Options of `runFaithfulnessTest`. */
export interface FaithfulnessOptions extends JudgeCallSettings {
  /** Seed of the sampling, the speaker and attribute choices and the shuffling. */
  seed: number;
  /** Conversations judged per iteration (or from a file). @defaultValue 50 */
  samplesPerGroup?: number;
  /** Real attributes shown per trial. @defaultValue 4 */
  realCount?: number;
  /** Distractors per trial by kind. @defaultValue { negated: 1, random: 2, contradicting: 1 } */
  distractors?: DistractorCounts;
  /** Trials run at once (two calls each). @defaultValue 4 */
  concurrency?: number;
}

export interface FaithfulnessDeps {
  backend: LlmBackend;
  /** `faithfulness.md`. */
  judgePrompt: JudgePrompt;
  /** `faithfulness-distractors.md`. */
  distractorPrompt: JudgePrompt;
  usage: JudgeUsage;
}

export interface FaithfulnessResult {
  overall: FaithfulnessSummary;
  by_iteration: { iteration: number; summary: FaithfulnessSummary }[];
  trials: FaithfulnessTrial[];
}

/**
 * The paper's faithfulness test with an LLM judge. Per sampled conversation: one speaker, 4 of
 * its real attributes and 4 distractors (negated and contradicting ones written by the LLM,
 * random ones from other profiles of the dataset), shuffled; the judge marks each inferred,
 * contradicted or neither from the conversation alone (it never sees the profiles).
 */
export async function runFaithfulnessTest(
  conversations: readonly EvaluatedConversation[],
  deps: FaithfulnessDeps,
  options: FaithfulnessOptions,
): Promise<FaithfulnessResult> {
  const groups = sampleJudgeGroups(conversations, options.samplesPerGroup ?? 50, options.seed, 'faithfulness');
  const attributePool = [
    ...new Set(conversations.flatMap((conversation) => [...conversation.user1_persona, ...conversation.user2_persona])),
  ];
  const limit = pLimit(options.concurrency ?? 4);
  let fatal: unknown;

  const runTrial = async (conversation: EvaluatedConversation): Promise<FaithfulnessTrial> => {
    const random = deriveRandom(options.seed, `faithfulness/${conversation.id}`);
    const plan = planFaithfulnessTrial(conversation, attributePool, random, {
      realCount: options.realCount,
      distractors: options.distractors,
    });
    const trial: FaithfulnessTrial = {
      conversation_id: conversation.id,
      iteration: conversation.iteration ?? null,
      speaker: plan.speaker,
      items: [],
      fallbacks: 0,
      error: null,
    };
    if (fatal) {
      trial.error = 'not asked: an earlier judge call failed fatally';
      return trial;
    }
    try {
      let written: { negated: string[]; contradicting: string[] } | null = null;
      if (plan.negateSources.length + plan.contradictSources.length > 0) {
        try {
          written = (
            await callJudge(
              deps.backend,
              buildDistractorPrompt(deps.distractorPrompt, plan),
              FaithfulnessDistractorsReplySchema,
              JUDGE_SCHEMA_NAMES.faithfulnessDistractors,
              options,
              deps.usage,
            )
          ).value;
        } catch (error) {
          // Unusable distractors fall back to random attributes; only fatal errors stop here.
          if (isFatalJudgeError(error)) throw error;
        }
      }
      const { items, fallbacks } = assembleFaithfulnessItems(plan, written, random);
      trial.fallbacks = fallbacks;
      trial.items = items.map((item) => ({ ...item, label: null, rationale: '' }));
      const replySchema = FaithfulnessReplySchema.refine(
        (reply) => items.every((_, index) => reply.judgments.some((judgment) => judgment.statement === index + 1)),
        { message: `give one judgment for each statement 1..${items.length}` },
      );
      const { value } = await callJudge(
        deps.backend,
        buildFaithfulnessPrompt(deps.judgePrompt, conversation, plan.speaker, items),
        replySchema,
        JUDGE_SCHEMA_NAMES.faithfulness,
        options,
        deps.usage,
      );
      trial.items = items.map((item, index) => {
        const judgment = value.judgments.find((candidate) => candidate.statement === index + 1)!;
        return { ...item, label: judgment.label, rationale: judgment.rationale };
      });
    } catch (error) {
      if (isFatalJudgeError(error)) fatal ??= error;
      trial.error = describeError(error);
    }
    return trial;
  };

  const sampled = groups.flatMap((group) => group.conversations);
  const trials = await Promise.all(sampled.map((conversation) => limit(() => runTrial(conversation))));
  if (fatal) throw fatal;
  return {
    overall: summarizeFaithfulness(trials),
    by_iteration: groups
      .filter((group) => group.iteration !== null)
      .map((group) => ({
        iteration: group.iteration!,
        summary: summarizeFaithfulness(trials.filter((trial) => trial.iteration === group.iteration)),
      })),
    trials,
  };
}
