import type { CriticDefinition } from '../schemas/critic.ts';
import type { Turn } from '../schemas/turn.ts';
import { renderConversation } from '../util/render-conversation.ts';
import { renderPersona } from '../util/render-persona.ts';
import { fillPlaceholders } from './fill-placeholders.ts';

type CriticKind = CriticDefinition['kind'];

/**
 * Placeholders a critic body may use, by kind. Any other `{{name}}` is a load error.
 * - `user1_persona`, `user2_persona`: the profiles as "- attribute" lines.
 * - `conversation` (filter): `<conversation>\nUser 1: …\n</conversation>`.
 * - `conversation_a`, `conversation_b` (pairwise): `<conversation id="A">\n…\n</conversation>` and
 *   `<conversation id="B">\n…\n</conversation>`. These tag formats are a contract (fixture servers parse them).
 */
export const CRITIC_PLACEHOLDERS: Record<CriticKind, readonly string[]> = {
  filter: ['user1_persona', 'user2_persona', 'conversation'],
  pairwise: ['user1_persona', 'user2_persona', 'conversation_a', 'conversation_b'],
};

/** Placeholders a body must use: a critic that never sees the conversation(s) cannot judge them. */
export const REQUIRED_CRITIC_PLACEHOLDERS: Record<CriticKind, readonly string[]> = {
  filter: ['conversation'],
  pairwise: ['conversation_a', 'conversation_b'],
};

/** What a filter critic sees: one conversation. */
export interface FilterPromptContext {
  kind: 'filter';
  user1Persona: readonly string[];
  user2Persona: readonly string[];
  turns: readonly Turn[];
}

/** What a pairwise critic sees: two conversations, shown as A and B. */
export interface PairwisePromptContext {
  kind: 'pairwise';
  user1Persona: readonly string[];
  user2Persona: readonly string[];
  turnsA: readonly Turn[];
  turnsB: readonly Turn[];
}

export type CriticPromptContext = FilterPromptContext | PairwisePromptContext;

/**
 * Each turns or attributes array rendered once: a pair's critic calls (every filter on each
 * candidate, both orders of every ranker) show the same candidates and profiles again and again.
 * Generated turns and profiles are never changed once made, so a rendering never goes stale.
 */
const renderedConversations = new WeakMap<readonly Turn[], string>();
const renderedPersonas = new WeakMap<readonly string[], string>();

function renderOnce<T extends object>(rendered: WeakMap<T, string>, value: T, render: (value: T) => string): string {
  let text = rendered.get(value);
  if (text === undefined) {
    text = render(value);
    rendered.set(value, text);
  }
  return text;
}

/** Wraps turns in the `<conversation>` tag the critic prompts (and fixture servers) rely on. */
export function renderConversationBlock(turns: readonly Turn[], id?: 'A' | 'B'): string {
  const open = id ? `<conversation id="${id}">` : '<conversation>';
  return `${open}\n${renderOnce(renderedConversations, turns, renderConversation)}\n</conversation>`;
}

/**
 * Substitutes the placeholders of a critic body in one pass (text inserted for one placeholder is
 * never scanned again). Pure. Throws if the context kind differs from the critic's kind or the body
 * uses a placeholder its kind does not know (`loadCritics` rejects such files earlier).
 */
export function renderCriticPrompt(
  critic: Pick<CriticDefinition, 'name' | 'kind' | 'prompt'>,
  context: CriticPromptContext,
): string {
  if (context.kind !== critic.kind) {
    throw new Error(`critic "${critic.name}" is a ${critic.kind} critic but got a ${context.kind} context`);
  }
  const values: Record<string, string> = {
    user1_persona: renderOnce(renderedPersonas, context.user1Persona, renderPersona),
    user2_persona: renderOnce(renderedPersonas, context.user2Persona, renderPersona),
  };
  if (context.kind === 'filter') {
    values.conversation = renderConversationBlock(context.turns);
  } else {
    values.conversation_a = renderConversationBlock(context.turnsA, 'A');
    values.conversation_b = renderConversationBlock(context.turnsB, 'B');
  }
  return fillPlaceholders(critic.prompt, values, `critic "${critic.name}"`);
}
