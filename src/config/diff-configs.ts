/** One setting that differs between two configs. `before`/`after` are undefined when absent. */
export interface ConfigChange {
  /** Dotted config key, e.g. `llm.model`. */
  path: string;
  before: unknown;
  after: unknown;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Every leaf setting that differs between `before` and `after`, in a stable (sorted) order. Objects
 * are walked key by key; arrays and scalars compare by their JSON text; a key absent on one side and
 * `undefined` on the other is no change.
 */
export function diffConfigs(before: unknown, after: unknown, prefix = ''): ConfigChange[] {
  // An absent section is an empty one: `{ budget: { max_tokens: 5 } }` vs `{}` names `budget.max_tokens`.
  if (
    (isPlainObject(before) || before === undefined) &&
    (isPlainObject(after) || after === undefined) &&
    before !== after
  ) {
    before ??= {};
    after ??= {};
  }
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => diffConfigs(before[key], after[key], prefix ? `${prefix}.${key}` : key));
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ path: prefix, before, after }];
}

/** `candidates 4 → 2`, with `(unset)` for an absent value; a label replaces the path when given. */
export function formatChange(change: ConfigChange, label = change.path): string {
  const show = (value: unknown) => (value === undefined ? '(unset)' : JSON.stringify(value));
  return `${label} ${show(change.before)} → ${show(change.after)}`;
}
