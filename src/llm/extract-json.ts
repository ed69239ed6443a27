/**
 * Pulls the JSON object out of a model reply: tolerates ``` or ~~~ fences (any language tag; the
 * first fenced block holding a `{` is used) and prose before or after by taking the outermost
 * `{...}` (first `{` to last `}`). Returns the text unchanged (trimmed) when it holds no braces, so
 * `JSON.parse` reports the real problem.
 */
export function extractJson(text: string): string {
  const fenced = [...text.matchAll(/(```|~~~)[^\n{]*\n?([\s\S]*?)\1/g)].find((block) => block[2].includes('{'));
  const body = fenced ? fenced[2] : text;
  const start = body.indexOf('{');
  const end = body.lastIndexOf('}');
  if (start === -1 || end < start) return body.trim();
  return body.slice(start, end + 1);
}
