import type { ChatMessage } from '../llm/llm-backend.ts';
import { renderPersona } from '../util/render-persona.ts';

/** The prompt of one batch: the template with `{{items}}` as numbered `<item>` blocks, one user message. */
export function buildContradictionBatchMessages(
  template: string,
  checks: ReadonlyArray<{ profile: readonly string[]; candidate: string }>,
): ChatMessage[] {
  const items = checks
    .map(
      (check, position) =>
        `<item id="${position + 1}">\n<profile>\n${renderPersona(check.profile)}\n</profile>\n<candidate>\n${check.candidate.trim()}\n</candidate>\n</item>`,
    )
    .join('\n\n');
  return [{ role: 'user', content: template.replace('{{items}}', () => items) }];
}
