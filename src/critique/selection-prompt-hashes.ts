import type { RunConfig } from '../schemas/run-config.ts';
import { resolveSelection } from './resolve-selection.ts';
import { COMBINED_PANEL_LINEAGE_KEY, loadCombinedPanel } from './combined-panel-file.ts';
import { LISTWISE_PANEL_LINEAGE_KEY, loadListwisePanel } from './listwise-panel-prompt.ts';
import { FILTER_PANEL_LINEAGE_KEY, loadFilterPanel } from './filter-panel-prompt.ts';

/**
 * Hashes of the panel prompts the run's selection scheme uses, keyed like
 * `lineage.critic_hashes` (`panel/listwise`, `panel/combined`, `panel/filters`): the same entries every row's
 * lineage gets, for the manifest.
 */
export async function selectionPromptHashes(critique: RunConfig['critique']): Promise<Record<string, string>> {
  const scheme = resolveSelection(critique);
  const filters: Record<string, string> =
    scheme.filters === 'combined' ? { [FILTER_PANEL_LINEAGE_KEY]: (await loadFilterPanel()).promptHash } : {};
  if (scheme.method === 'listwise')
    return { ...filters, [LISTWISE_PANEL_LINEAGE_KEY]: (await loadListwisePanel()).promptHash };
  if (scheme.panel === 'combined')
    return { ...filters, [COMBINED_PANEL_LINEAGE_KEY]: (await loadCombinedPanel()).promptHash };
  return filters;
}
