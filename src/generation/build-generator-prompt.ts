import type { ChatMessage } from '../llm/llm-backend.ts';
import type { Pair } from '../schemas/pair.ts';
import type { PoolRecord } from '../schemas/conversation.ts';
import { renderPersona } from '../util/render-persona.ts';
import { renderConversation } from '../util/render-conversation.ts';
import type { PromptTemplate } from '../schemas/prompt-template.ts';

export interface GeneratorPromptInput {
  pair: Pair;
  /** Few-shot examples, in the order they are shown. */
  examples: readonly PoolRecord[];
  targetMinTurns: number;
  targetMaxTurns: number;
}

/** Renders one profile pair as the `User 1 persona:` / `User 2 persona:` block the template uses. */
export function renderPairBlock(user1: readonly string[], user2: readonly string[]): string {
  return `User 1 persona:\n${renderPersona(user1)}\nUser 2 persona:\n${renderPersona(user2)}`;
}

/**
 * Each few-shot example rendered once (all but its "Example N:" line): pool records are shared by
 * every job of an iteration and never changed, and each job shows several of them.
 */
const renderedExamples = new WeakMap<PoolRecord, string>();

function renderExample(example: PoolRecord, position: number): string {
  let rendered = renderedExamples.get(example);
  if (rendered === undefined) {
    rendered = [
      renderPairBlock(example.user1_persona, example.user2_persona),
      'Conversation:',
      renderConversation(example.turns),
    ].join('\n');
    renderedExamples.set(example, rendered);
  }
  return `Example ${position}:\n${rendered}`;
}

/** Builds the generator chat messages: header, examples, instruction, target pair. Pure. */
export function buildGeneratorPrompt(template: PromptTemplate, input: GeneratorPromptInput): ChatMessage[] {
  const values: Record<string, string> = {
    examples: input.examples.map((example, index) => renderExample(example, index + 1)).join('\n\n'),
    min_turns: String(input.targetMinTurns),
    max_turns: String(input.targetMaxTurns),
    user1_persona: renderPersona(input.pair.user1.attributes),
    user2_persona: renderPersona(input.pair.user2.attributes),
  };
  // One pass over the template, so placeholder-like text inside values is never expanded.
  const body = template.body.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => values[name] ?? whole);
  return [
    { role: 'system', content: template.system },
    { role: 'user', content: body },
  ];
}
