import { fileURLToPath } from 'node:url';
import type { CriticDefinition } from '../schemas/critic.ts';
import type { CombinedPanel } from '../schemas/combined-panel.ts';
import type { Turn } from '../schemas/turn.ts';
import type { ChatMessage, CompletionRequest } from '../llm/llm-backend.ts';
import { renderPersona } from '../util/render-persona.ts';
import { renderConversation } from '../util/render-conversation.ts';
import { criticRequest, type CriticCallOptions } from './build-critic-request.ts';
import { fillPlaceholders } from './fill-placeholders.ts';
import { parsePanelFile } from './combined-panel-file.ts';
import { loadPanelFileOnce } from './load-panel-file-once.ts';

/**
 * Placeholders the filter panel prompt may use. Any other `{{name}}` is a load error.
 * - `checks`: one `- **<verdict field>** (<critic name>): <description>` line per filter critic;
 * - `reply_format`: the JSON reply shape;
 * - `user1_persona`, `user2_persona`: the profiles;
 * - `conversation`: the candidate as a `<conversation>` block.
 * The stable part (instructions, checks, reply format) comes before the per-call part (profiles,
 * conversation): providers cache a prompt's longest repeated prefix.
 */
export const FILTER_PANEL_PLACEHOLDERS = [
  'checks',
  'reply_format',
  'user1_persona',
  'user2_persona',
  'conversation',
] as const;

/** Key of the filter panel prompt's hash in `lineage.critic_hashes`. */
export const FILTER_PANEL_LINEAGE_KEY = 'panel/filters';

/** The built-in filter panel prompt, `critics/panel/filters.md`. */
export function defaultFilterPanelPath(): string {
  return fileURLToPath(new URL('../../critics/panel/filters.md', import.meta.url));
}

/** Parses a filter panel prompt file; `InputError` names the file (and line) and the fix. */
export function parseFilterPanelFile(text: string, displayPath: string): CombinedPanel {
  return parsePanelFile(text, displayPath, {
    placeholders: FILTER_PANEL_PLACEHOLDERS,
    required: ['checks', 'reply_format', 'conversation'],
    what: 'the filter panel must show the checks, the reply format and the conversation',
  });
}

/** Reads and checks the filter panel prompt, once per path and process. */
export function loadFilterPanel(path = defaultFilterPanelPath()): Promise<CombinedPanel> {
  return loadPanelFileOnce(
    path,
    parseFilterPanelFile,
    'cannot read the filter panel prompt (critique.filters: combined)',
  );
}

/** A filter critic as the panel asks it. */
export type PanelCheck = Pick<CriticDefinition, 'name' | 'description' | 'verdict'>;

/** The structured-output schema name of a filter panel: `filter_panel_<name>`. */
export function filterPanelSchemaName(panel: Pick<CombinedPanel, 'name'>): string {
  return `filter_panel_${panel.name}`;
}

/** Substitutes the filter panel prompt's placeholders in one pass. Pure. */
export function renderFilterPanelPrompt(
  panel: Pick<CombinedPanel, 'name' | 'prompt'>,
  checks: readonly PanelCheck[],
  context: { user1Persona: readonly string[]; user2Persona: readonly string[]; turns: readonly Turn[] },
): string {
  const fields = checks.map((check) => `"${check.verdict.field}": <true or false>`).join(', ');
  const values: Record<string, string> = {
    checks: checks.map((check) => `- **${check.verdict.field}** (${check.name}): ${check.description}`).join('\n'),
    reply_format: `{"rationale": "<one or two sentences per check>", ${fields}, "confidence": <a number from 0 to 1: how sure you are of your answers>}`,
    user1_persona: renderPersona(context.user1Persona),
    user2_persona: renderPersona(context.user2Persona),
    conversation: `<conversation>\n${renderConversation(context.turns)}\n</conversation>`,
  };
  return fillPlaceholders(panel.prompt, values, `panel "${panel.name}"`);
}

/** A complete filter panel request (role `critic`); `completeStructured` adds the schema. */
export function buildFilterPanelRequest(
  panel: Pick<CombinedPanel, 'name' | 'prompt'>,
  checks: readonly PanelCheck[],
  context: { user1Persona: readonly string[]; user2Persona: readonly string[]; turns: readonly Turn[] },
  options: CriticCallOptions,
): CompletionRequest {
  const messages: ChatMessage[] = [
    {
      role: 'system',
      content: [
        `You are a panel of expert reviewers answering ${checks.length} yes/no check(s) about one persona-based conversation: ${checks.map((check) => check.verdict.field).join(', ')}.`,
        'Answer with JSON only.',
      ].join('\n'),
    },
    { role: 'user', content: renderFilterPanelPrompt(panel, checks, context) },
  ];
  return criticRequest(messages, options);
}
