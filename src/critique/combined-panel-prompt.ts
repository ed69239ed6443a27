import type { CriticDefinition } from '../schemas/critic.ts';
import type { CombinedPanel } from '../schemas/combined-panel.ts';
import type { Turn } from '../schemas/turn.ts';
import type { ChatMessage, CompletionRequest } from '../llm/llm-backend.ts';
import { renderPersona } from '../util/render-persona.ts';
import { criticRequest, type CriticCallOptions } from './build-critic-request.ts';
import { renderConversationBlock } from './render-critic-prompt.ts';
import { fillPlaceholders } from './fill-placeholders.ts';

/** A pairwise critic as a dimension of the combined panel: its name and description. */
export type PanelDimension = Pick<CriticDefinition, 'name' | 'description'>;

/** What the combined panel sees: two conversations, shown as A and B. */
export interface CombinedPanelContext {
  user1Persona: readonly string[];
  user2Persona: readonly string[];
  turnsA: readonly Turn[];
  turnsB: readonly Turn[];
}

/** The structured-output schema name of a panel: `panel_<name>`, e.g. `panel_combined`. */
export function combinedPanelSchemaName(panel: Pick<CombinedPanel, 'name'>): string {
  return `panel_${panel.name}`;
}

/** `{{dimensions}}`: one `- **name**: description` line per dimension, in critic order. */
export function renderPanelDimensions(dimensions: readonly PanelDimension[]): string {
  return dimensions.map((dimension) => `- **${dimension.name}**: ${dimension.description}`).join('\n');
}

/** `{{reply_format}}`: the reply's JSON shape, one key per dimension. */
export function renderPanelReplyFormat(dimensions: readonly PanelDimension[]): string {
  const lines = dimensions.map(
    (dimension, position) =>
      `  "${dimension.name}": {"rationale": "<one or two sentences comparing A and B on ${dimension.name}>", "winner": "A" or "B"}${position < dimensions.length - 1 ? ',' : ''}`,
  );
  return ['{', ...lines, '}'].join('\n');
}

/** The system message: the panel's role and the exact JSON reply it must produce. */
export function combinedPanelSystemMessage(dimensions: readonly PanelDimension[]): string {
  const shape = dimensions
    .map((dimension) => `"${dimension.name}": {"rationale": string, "winner": "A" or "B"}`)
    .join(', ');
  return [
    `You are a panel of expert judges comparing two persona-based conversations on ${dimensions.length} separate qualities: ${dimensions.map((dimension) => dimension.name).join(', ')}.`,
    `Answer with JSON only: {${shape}}.`,
  ].join('\n');
}

/**
 * Substitutes the panel prompt's placeholders in one pass (inserted text is never scanned again).
 * Pure. Throws on a placeholder the panel does not know (`loadCombinedPanel` rejects those earlier).
 */
export function renderCombinedPanelPrompt(
  panel: Pick<CombinedPanel, 'name' | 'prompt'>,
  dimensions: readonly PanelDimension[],
  context: CombinedPanelContext,
): string {
  const values: Record<string, string> = {
    dimensions: renderPanelDimensions(dimensions),
    reply_format: renderPanelReplyFormat(dimensions),
    user1_persona: renderPersona(context.user1Persona),
    user2_persona: renderPersona(context.user2Persona),
    conversation_a: renderConversationBlock(context.turnsA, 'A'),
    conversation_b: renderConversationBlock(context.turnsB, 'B'),
  };
  return fillPlaceholders(panel.prompt, values, `panel "${panel.name}"`);
}

/** The messages of one panel call: the system message, then the rendered prompt. */
export function buildCombinedPanelMessages(
  panel: Pick<CombinedPanel, 'name' | 'prompt'>,
  dimensions: readonly PanelDimension[],
  context: CombinedPanelContext,
): ChatMessage[] {
  return [
    { role: 'system', content: combinedPanelSystemMessage(dimensions) },
    { role: 'user', content: renderCombinedPanelPrompt(panel, dimensions, context) },
  ];
}

/** A complete panel request (role `critic`, the critic sampling settings); `completeStructured` adds the schema. */
export function buildCombinedPanelRequest(
  panel: Pick<CombinedPanel, 'name' | 'prompt'>,
  dimensions: readonly PanelDimension[],
  context: CombinedPanelContext,
  options: CriticCallOptions,
): CompletionRequest {
  return criticRequest(buildCombinedPanelMessages(panel, dimensions, context), options);
}
