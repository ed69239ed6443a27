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
import { renderPanelDimensions, type PanelDimension } from './combined-panel-prompt.ts';
import { loadPanelFileOnce } from './load-panel-file-once.ts';

/**
 * Placeholders the listwise panel prompt may use. Any other `{{name}}` is a load error.
 * - `dimensions`: one `- **<critic name>**: <description>` line per pairwise critic;
 * - `checks`: with folded filters, a section listing each filter critic's yes/no check; else empty;
 * - `reply_format`: the JSON reply shape for the shown candidates;
 * - `user1_persona`, `user2_persona`: the profiles;
 * - `conversations`: every candidate as `<conversation id="1">…</conversation>`, in shown order.
 * Keep the stable part (instructions, dimensions, checks, reply format) before the per-call part
 * (profiles, conversations): providers cache a prompt's longest repeated prefix.
 */
export const LISTWISE_PANEL_PLACEHOLDERS = [
  'dimensions',
  'checks',
  'reply_format',
  'user1_persona',
  'user2_persona',
  'conversations',
] as const;

/** Key of the listwise prompt's hash in `lineage.critic_hashes`. */
export const LISTWISE_PANEL_LINEAGE_KEY = 'panel/listwise';

/** The built-in listwise panel prompt, `critics/panel/listwise.md`. */
export function defaultListwisePanelPath(): string {
  return fileURLToPath(new URL('../../critics/panel/listwise.md', import.meta.url));
}

/** Parses a listwise panel prompt file; `InputError` names the file (and line) and the fix. */
export function parseListwisePanelFile(text: string, displayPath: string): CombinedPanel {
  return parsePanelFile(text, displayPath, {
    placeholders: LISTWISE_PANEL_PLACEHOLDERS,
    required: ['dimensions', 'reply_format', 'conversations'],
    what: 'the listwise panel must show the qualities, the reply format and the conversations',
  });
}

/** Reads and checks the listwise panel prompt, once per path and process. */
export function loadListwisePanel(path = defaultListwisePanelPath()): Promise<CombinedPanel> {
  return loadPanelFileOnce(
    path,
    parseListwisePanelFile,
    'cannot read the listwise panel prompt (critique.selection: listwise)',
  );
}

/** A filter critic folded into the listwise call: its name, description and boolean verdict field. */
export type FoldedCheck = Pick<CriticDefinition, 'name' | 'description' | 'verdict'>;

/** What the listwise panel sees: the candidates, labelled "1", "2", … in shown order. */
export interface ListwisePanelContext {
  user1Persona: readonly string[];
  user2Persona: readonly string[];
  shown: ReadonlyArray<readonly Turn[]>;
}

/** `{{checks}}`: the folded filters' yes/no questions, or empty without folded filters. */
export function renderListwiseChecks(checks: readonly FoldedCheck[]): string {
  if (checks.length === 0) return '';
  const lines = checks.map(
    (check) => `- **${check.verdict.field}** (${check.name}): true or false. ${check.description}`,
  );
  return ['', 'Checks (answer each for every conversation):', ...lines, ''].join('\n');
}

/** `{{reply_format}}`: the reply's JSON shape for `count` candidates. */
export function renderListwiseReplyFormat(
  dimensions: readonly PanelDimension[],
  checks: readonly FoldedCheck[],
  count: number,
): string {
  const fields = [
    ...dimensions.map((dimension) => `"${dimension.name}": <1-10>`),
    ...checks.map((check) => `"${check.verdict.field}": <true or false>`),
  ].join(', ');
  const entries = Array.from({ length: count }, (_, position) => `    "${position + 1}": {${fields}}`);
  return [
    '{',
    '  "rationale": "<two or three sentences comparing the conversations>",',
    '  "scores": {',
    entries.join(',\n'),
    '  }',
    '}',
  ].join('\n');
}

/** The system message: the panel's role and the reply shape. */
export function listwiseSystemMessage(dimensions: readonly PanelDimension[], checks: readonly FoldedCheck[]): string {
  const checked = checks.length
    ? ` and answer ${checks.length} yes/no check(s): ${checks.map((check) => check.verdict.field).join(', ')}`
    : '';
  return [
    `You are a panel of expert judges scoring several persona-based conversations on ${dimensions.length} separate qualities: ${dimensions.map((dimension) => dimension.name).join(', ')}${checked}.`,
    'Answer with JSON only: {"rationale": string, "scores": {"<conversation number>": {...}}}.',
  ].join('\n');
}

/** Substitutes the listwise prompt's placeholders in one pass. Pure. */
export function renderListwisePrompt(
  panel: Pick<CombinedPanel, 'name' | 'prompt'>,
  dimensions: readonly PanelDimension[],
  checks: readonly FoldedCheck[],
  context: ListwisePanelContext,
): string {
  const values: Record<string, string> = {
    dimensions: renderPanelDimensions(dimensions),
    checks: renderListwiseChecks(checks),
    reply_format: renderListwiseReplyFormat(dimensions, checks, context.shown.length),
    user1_persona: renderPersona(context.user1Persona),
    user2_persona: renderPersona(context.user2Persona),
    conversations: context.shown
      .map((turns, position) => `<conversation id="${position + 1}">\n${renderConversation(turns)}\n</conversation>`)
      .join('\n\n'),
  };
  return fillPlaceholders(panel.prompt, values, `panel "${panel.name}"`);
}

/** A complete listwise request (role `critic`); `completeStructured` adds the schema. */
export function buildListwiseRequest(
  panel: Pick<CombinedPanel, 'name' | 'prompt'>,
  dimensions: readonly PanelDimension[],
  checks: readonly FoldedCheck[],
  context: ListwisePanelContext,
  options: CriticCallOptions,
): CompletionRequest {
  const messages: ChatMessage[] = [
    { role: 'system', content: listwiseSystemMessage(dimensions, checks) },
    { role: 'user', content: renderListwisePrompt(panel, dimensions, checks, context) },
  ];
  return criticRequest(messages, options);
}
