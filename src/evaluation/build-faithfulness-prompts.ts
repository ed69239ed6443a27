import type { ChatMessage } from '../llm/llm-backend.ts';
import { renderConversation } from '../util/render-conversation.ts';
import { renderPersona } from '../util/render-persona.ts';
import type { EvaluatedConversation } from './compute-dataset-statistics.ts';
import { fillPrompt, type JudgePrompt } from './load-judge-prompts.ts';
import type { FaithfulnessItem, FaithfulnessPlan } from './plan-faithfulness-trial.ts';

const messages = ({ system, user }: { system: string; user: string }): ChatMessage[] => [
  { role: 'system', content: system },
  { role: 'user', content: user },
];

/** Messages asking the LLM to negate and to contradict the planned real attributes. Pure. */
export function buildDistractorPrompt(prompt: JudgePrompt, plan: FaithfulnessPlan): ChatMessage[] {
  return messages(
    fillPrompt(prompt, {
      negate: plan.negateSources.length ? renderPersona(plan.negateSources) : '(none)',
      contradict: plan.contradictSources.length ? renderPersona(plan.contradictSources) : '(none)',
    }),
  );
}

/** Messages asking the judge to mark each numbered statement inferred / contradicted / neither. Pure. */
export function buildFaithfulnessPrompt(
  prompt: JudgePrompt,
  conversation: EvaluatedConversation,
  speaker: 'User 1' | 'User 2',
  items: readonly FaithfulnessItem[],
): ChatMessage[] {
  return messages(
    fillPrompt(prompt, {
      conversation: renderConversation(conversation.turns),
      speaker,
      count: String(items.length),
      statements: items.map((item, index) => `${index + 1}. ${item.text}`).join('\n'),
    }),
  );
}
