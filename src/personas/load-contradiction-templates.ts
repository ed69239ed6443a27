import { readFile } from 'node:fs/promises';

const DEFAULT_SINGLE_TEMPLATE_URL = new URL('./contradiction-check-prompt.md', import.meta.url);
const DEFAULT_BATCH_TEMPLATE_URL = new URL('./contradiction-batch-prompt.md', import.meta.url);

/** The contradiction-check prompt templates: the given ones, else the packaged defaults. */
export async function loadContradictionTemplates(overrides: {
  template?: string;
  batchTemplate?: string;
}): Promise<{ singleTemplate: string; batchTemplate: string }> {
  const [singleTemplate, batchTemplate] = await Promise.all([
    overrides.template ?? readFile(DEFAULT_SINGLE_TEMPLATE_URL, 'utf8'),
    overrides.batchTemplate ?? readFile(DEFAULT_BATCH_TEMPLATE_URL, 'utf8'),
  ]);
  return { singleTemplate, batchTemplate };
}
