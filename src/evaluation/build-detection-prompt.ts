import type { ChatMessage } from '../llm/llm-backend.ts';
import { renderConversation } from '../util/render-conversation.ts';
import { renderPersona } from '../util/render-persona.ts';
import type { EvaluatedConversation } from './compute-dataset-statistics.ts';
import { fillPrompt, type JudgePrompt } from './load-judge-prompts.ts';

/** Messages asking which of two conversations (shown as A and B, each with its profiles) is AI-generated. Pure. */
export function buildDetectionPrompt(
  prompt: JudgePrompt,
  first: EvaluatedConversation,
  second: EvaluatedConversation,
): ChatMessage[] {
  const { system, user } = fillPrompt(prompt, {
    a_user1_persona: renderPersona(first.user1_persona),
    a_user2_persona: renderPersona(first.user2_persona),
    a_conversation: renderConversation(first.turns),
    b_user1_persona: renderPersona(second.user1_persona),
    b_user2_persona: renderPersona(second.user2_persona),
    b_conversation: renderConversation(second.turns),
  });
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}
