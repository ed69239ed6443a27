/**
 * Pulls the JSON object out of a model reply: tolerates ```json fences and prose before or after
 * by taking the outermost `{...}` (first `{` to last `}`). Returns the text unchanged (trimmed)
 * when it holds no braces, so `JSON.parse` reports the real problem.
 */
export function extractJson(text: string): string {
  const fenced = /```(?:json|JSON)?\s*\n?([\s\S]*?)```/.exec(text);
  const body = fenced && fenced[1].includes('{') ? fenced[1] : text;
  const start = body.indexOf('{');
  const end = body.lastIndexOf('}');
  if (start === -1 || end < start) return body.trim();
  return body.slice(start, end + 1);
}
