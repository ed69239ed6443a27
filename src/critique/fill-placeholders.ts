/** `{{name}}`, with optional spaces inside the braces. Group 1 is the name. */
export const PLACEHOLDER_PATTERN = /\{\{\s*([^{}]*?)\s*\}\}/g;

/**
 * Substitutes every `{{name}}` of `template` from `values` in one pass (inserted text is never
 * scanned again). Pure. Throws on a placeholder `values` lacks, naming `owner` (e.g. `critic
 * "depth"`): the prompt loaders reject unknown placeholders earlier, so this is a programming error.
 */
export function fillPlaceholders(template: string, values: Readonly<Record<string, string>>, owner: string): string {
  return template.replace(PLACEHOLDER_PATTERN, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${owner}: unknown placeholder {{${name}}}`);
    return value;
  });
}
