import { ConfigError } from '../errors.ts';
import type { RunConfig } from '../schemas/run-config.ts';
import type { SelectionMethod, SelectionScheme } from '../schemas/selection.ts';

/**
 * The selection method when `critique.selection` is absent (and `critique.panel` too). Chosen from
 * bench/RESULTS.md ("Selection schemes"): the cheapest scheme with at most 20% of the paper panel's
 * tokens per accepted conversation, accuracy within 2 points of the paper panel's and agreement
 * with it no lower than its own self-agreement, at judge noise 0.3 with first-position bias:
 * listwise, second order when uncertain, filters folded (17% of the tokens; accuracy and agreement
 * above the paper panel's in every confirmation run, see RESULTS.md).
 */
export const DEFAULT_SELECTION_METHOD: SelectionMethod = 'listwise';

/** The paper-faithful scheme: round robin, one call per expert, both orders, one call per filter. */
export const PAPER_SELECTION: SelectionScheme = {
  method: 'round-robin',
  panel: 'per-expert',
  second_order: 'always',
  filters: 'separate',
};

/**
 * Fills every selection choice the config leaves open. Without `critique.selection`, a config
 * that sets `critique.panel` keeps round robin (as before selection schemes existed); otherwise
 * the default method applies. Each method has its own defaults for the other keys:
 * - `round-robin`: panel per-expert, both orders, separate filters (the paper);
 * - `knockout`: combined panel, second order when uncertain, separate filters;
 * - `listwise`: second order when uncertain (the other order could change the winner), filters
 *   folded into the listwise call; under `--batch` (`options.batch`) both orders, sent in the same
 *   batch: asking the second order after the first one's answer would wait for a second batch
 *   (up to 24 h more) to save ~2% of the paper panel's tokens.
 * @throws ConfigError for `critique.filters: folded` without `critique.selection: listwise`.
 */
export function resolveSelection(
  critique: RunConfig['critique'],
  options: { /** `llm.batch`. @defaultValue false */ batch?: boolean } = {},
): SelectionScheme {
  const method = critique.selection ?? (critique.panel !== undefined ? 'round-robin' : DEFAULT_SELECTION_METHOD);
  const filters = critique.filters ?? (method === 'listwise' ? 'folded' : 'separate');
  if (filters === 'folded' && method !== 'listwise') {
    throw new ConfigError('invalid selection scheme', [
      `critique.filters: "folded" needs critique.selection: "listwise" (got "${method}"); set critique.filters: "separate" or --selection listwise`,
    ]);
  }
  return {
    method,
    panel: critique.panel ?? (method === 'round-robin' ? 'per-expert' : 'combined'),
    second_order:
      critique.second_order ??
      (method === 'round-robin' || (method === 'listwise' && options.batch === true) ? 'always' : 'when-uncertain'),
    filters,
  };
}

/** The scheme as lineage records it, e.g. `listwise; second order when-uncertain; filters folded`. */
export function describeSelection(scheme: SelectionScheme): string {
  const panel = scheme.method === 'listwise' ? '' : `; panel ${scheme.panel}`;
  return `${scheme.method}${panel}; second order ${scheme.second_order}; filters ${scheme.filters}`;
}
