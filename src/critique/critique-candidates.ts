import type { CriticDefinition, FilterVerdict, PairwiseVerdict } from '../schemas/critic.ts';
import type { Pair } from '../schemas/pair.ts';
import type { Turn } from '../schemas/turn.ts';
import type { LlmBackend } from '../llm/llm-backend.ts';
import type { CombinedPanel } from '../schemas/combined-panel.ts';
import { aggregateVotes } from './aggregate-votes.ts';
import { lintConversation } from './lint-conversation.ts';
import { runFilterCritic } from './run-filter-critic.ts';
import type { SelectionScheme } from '../schemas/selection.ts';
import { deriveRandom, sampleWithoutReplacement } from '../util/create-random.ts';
import { compareCandidates } from './compare-candidates.ts';
import { runKnockout } from './run-knockout.ts';
import { selectListwise } from './select-listwise.ts';
import { FILTER_PANEL_LINEAGE_KEY, loadFilterPanel } from './filter-panel-prompt.ts';
import { runFilterPanel } from './run-filter-panel.ts';
import { LISTWISE_PANEL_LINEAGE_KEY, loadListwisePanel } from './listwise-panel-prompt.ts';
import { COMBINED_PANEL_LINEAGE_KEY, loadCombinedPanel } from './combined-panel-file.ts';
import { describeSelection } from './resolve-selection.ts';

/** One generated candidate of a pair. */
export interface CritiqueCandidate {
  /** Index among the candidates generated for the pair. */
  index: number;
  turns: Turn[];
  /** Raw generator reply. */
  rawText: string;
  /** Why the reply did not parse, when it did not. */
  parseError?: string;
}

export interface CritiqueCandidatesInput {
  pair: Pair;
  candidates: CritiqueCandidate[];
}

export interface CritiqueOptions {
  /** Lint bounds on utterance count (inclusive). */
  minTurns: number;
  maxTurns: number;
  /** Critic sampling temperature. */
  temperature: number;
  /** Maximum output tokens of one critic reply. */
  maxOutputTokens: number;
  /** Sampling seed for critic calls, for endpoints that honour it. */
  seed?: number;
}

export interface CritiqueCandidatesDeps {
  /** The LLM port; it applies the concurrency limit to the calls made here in parallel. */
  backend: LlmBackend;
  /** Loaded critics (`loadCritics`); filters run in this order, disabled ones are skipped. */
  critics: CriticDefinition[];
  options: CritiqueOptions;
  /**
   * `critique.panel: combined`: one panel call per order judges every pairwise dimension of a
   * candidate pair (2 calls instead of 2 per ranker); verdicts keep the per-expert shape.
   * @defaultValue undefined: the paper's panel, one call per ranker per order
   */
  panel?: CombinedPanel;
  /**
   * How the winner is chosen (`resolveSelection`). @defaultValue round robin, both orders, separate
   * filters, per-expert unless `panel` is given (the behaviour before selection schemes existed)
   */
  selection?: SelectionScheme;
  /** The listwise panel prompt (`loadListwisePanel`); required for `selection.method: listwise`. */
  listwisePanel?: CombinedPanel;
  /** The filter panel prompt (`loadFilterPanel`) for `selection.filters: combined`. @defaultValue the packaged file */
  filterPanel?: CombinedPanel;
}

/** The critique of one candidate (the verdict part of a `CandidateRecord`). */
export interface CandidateCritique {
  index: number;
  /** Lint verdicts, then the LLM filter verdicts that ran. */
  filters: FilterVerdict[];
  /** Pairwise verdicts this candidate took part in. */
  pairwise: PairwiseVerdict[];
  /** Copeland score; null when filtered. */
  copeland: number | null;
  status: 'filtered' | 'ranked' | 'winner';
  /** First check that removed it, when filtered. */
  filtered_by: string | null;
}

export interface CritiqueResult {
  /** Index of the winning candidate, or null when every candidate was filtered. */
  winnerIndex: number | null;
  /** One record per input candidate, in input order. */
  records: CandidateCritique[];
  /** Critic (or lint check) name -> number of candidates it removed. */
  reasons: Record<string, number>;
  /** The winner's scores: each LLM filter's confidence, each ranker's pairwise wins, `copeland`. Empty without a winner. */
  scores: Record<string, number>;
  /** The selection scheme used (`describeSelection`), for lineage. */
  selection: string;
  /** Hashes of the panel prompt files used, keyed like `lineage.critic_hashes` (`panel/combined`, `panel/listwise`). */
  promptHashes: Record<string, string>;
}

/**
 * Runs the critic stage on one pair's candidates:
 * 1. lint checks (free): a candidate failing any of them is filtered without an LLM call;
 * 2. with separate filters, the LLM filter critics in order, per candidate (candidates in
 *    parallel); once one rejects, the remaining filters are skipped for that candidate; with
 *    combined filters, one filter panel call per candidate answers them all (`runFilterPanel`);
 * 3. ranking the survivors by `deps.selection.method`:
 *    - `round-robin`: every pair compared on every ranker dimension (`compareCandidates`), then
 *      `aggregateVotes` (Copeland, tie-break by mean LLM-filter confidence, then lower index);
 *    - `knockout`: a seeded bracket of N − 1 comparisons (`runKnockout`);
 *    - `listwise`: one call per order scores every survivor (`selectListwise`); with folded
 *      filters it also answers each filter's check, and a candidate flagged by a majority of the
 *      orders is filtered by that critic (a split vote on the would-be winner is settled by the
 *      critic's own call); the highest mean score wins (ties as in `aggregateVotes`);
 *    a single survivor wins without comparisons (after its folded checks), none means no winner.
 * Pairwise verdicts keep the per-expert shape in every scheme (listwise ones are derived from the
 * scores: the higher score on a dimension wins it), so records and Copeland scores read alike.
 */
export async function critiqueCandidates(
  input: CritiqueCandidatesInput,
  deps: CritiqueCandidatesDeps,
): Promise<CritiqueResult> {
  const { pair, candidates } = input;
  const { backend, options } = deps;
  const indexes = candidates.map((candidate) => candidate.index);
  if (new Set(indexes).size !== indexes.length) throw new Error(`duplicate candidate indexes: ${indexes.join(', ')}`);
  const selection: SelectionScheme = deps.selection ?? {
    method: 'round-robin',
    panel: deps.panel ? 'combined' : 'per-expert',
    second_order: 'always',
    filters: 'separate',
  };
  if (selection.filters === 'folded' && selection.method !== 'listwise')
    throw new Error('folded filters need selection "listwise"');
  // Workers get no panel prompts in their context for schemes chosen by default: read the packaged files (once per process).
  const listwisePanel =
    selection.method === 'listwise' ? (deps.listwisePanel ?? (await loadListwisePanel())) : undefined;
  const combinedPanel =
    selection.method !== 'listwise' && selection.panel === 'combined'
      ? (deps.panel ?? (await loadCombinedPanel()))
      : undefined;
  const filterPanel = selection.filters === 'combined' ? (deps.filterPanel ?? (await loadFilterPanel())) : undefined;
  const promptHashes: Record<string, string> = {
    ...(filterPanel && { [FILTER_PANEL_LINEAGE_KEY]: filterPanel.promptHash }),
    ...(combinedPanel && { [COMBINED_PANEL_LINEAGE_KEY]: combinedPanel.promptHash }),
    ...(listwisePanel && { [LISTWISE_PANEL_LINEAGE_KEY]: listwisePanel.promptHash }),
  };

  const enabled = deps.critics.filter((critic) => critic.enabled);
  const filterCritics = enabled.filter((critic) => critic.kind === 'filter');
  const rankers = enabled.filter((critic) => critic.kind === 'pairwise');
  const personas = { user1Persona: pair.user1.attributes, user2Persona: pair.user2.attributes };
  const criticDeps = {
    backend,
    options: { temperature: options.temperature, maxOutputTokens: options.maxOutputTokens, seed: options.seed },
  };
  const separateFilters = selection.filters === 'separate' ? filterCritics : [];

  const records: CandidateCritique[] = await Promise.all(
    candidates.map(async (candidate) => {
      const filters = lintConversation(
        { turns: candidate.turns, rawText: candidate.rawText, parseError: candidate.parseError, ...personas },
        { minTurns: options.minTurns, maxTurns: options.maxTurns },
      );
      let filteredBy = filters.find((verdict) => !verdict.passed)?.critic ?? null;
      if (filteredBy === null && filterPanel && filterCritics.length) {
        const verdicts = await runFilterPanel(
          { panel: filterPanel, critics: filterCritics, ...personas, turns: candidate.turns },
          criticDeps,
        );
        filters.push(...verdicts);
        filteredBy = verdicts.find((verdict) => !verdict.passed)?.critic ?? null;
      }
      // Sequential on purpose: a rejection saves the remaining filters' calls.
      for (const critic of filteredBy === null ? separateFilters : []) {
        const verdict = await runFilterCritic({ critic, ...personas, turns: candidate.turns }, criticDeps);
        filters.push(verdict);
        if (!verdict.passed) {
          filteredBy = critic.name;
          break;
        }
      }
      const status = filteredBy === null ? 'ranked' : 'filtered';
      return { index: candidate.index, filters, pairwise: [], copeland: null, status, filtered_by: filteredBy };
    }),
  );
  const recordOf = (index: number) => records.find((record) => record.index === index)!;

  // Presentation orders and brackets are drawn per pair from the run's seed: reproducible, and a
  // judge's position bias does not favour low candidate indexes.
  const random = deriveRandom(options.seed ?? 0, `selection/${pair.id}/${indexes.join(',')}`);
  let survivors = candidates.filter((candidate) => recordOf(candidate.index).status !== 'filtered');
  let verdicts: PairwiseVerdict[] = [];
  let winnerIndex: number | null = null;
  const extraScores: Record<string, number> = {};

  const filterConfidence = (): Record<number, number> => {
    const confidence: Record<number, number> = {};
    for (const record of records) {
      const llmVerdicts = record.filters.filter((verdict) => verdict.source === 'llm');
      confidence[record.index] = llmVerdicts.length
        ? llmVerdicts.reduce((sum, verdict) => sum + verdict.confidence, 0) / llmVerdicts.length
        : 1;
    }
    return confidence;
  };
  const compare = (a: CritiqueCandidate, b: CritiqueCandidate, firstShown: 'a' | 'b') =>
    compareCandidates({ rankers, panel: combinedPanel, scheme: selection, ...personas, a, b, firstShown }, criticDeps);

  if (
    selection.method === 'listwise' &&
    (survivors.length > 1 || (survivors.length === 1 && selection.filters === 'folded'))
  ) {
    const listwise = await selectListwise(
      {
        panel: listwisePanel!,
        rankers,
        checks: selection.filters === 'folded' ? filterCritics : [],
        ...personas,
        shown: sampleWithoutReplacement(random, survivors, survivors.length),
        secondOrder: selection.second_order,
        filterConfidence: filterConfidence(),
      },
      criticDeps,
    );
    for (const candidate of survivors) {
      const record = recordOf(candidate.index);
      record.filters.push(...listwise.filterVerdicts[candidate.index]);
      const rejectedBy = listwise.rejectedBy[candidate.index];
      if (rejectedBy !== undefined) {
        record.filtered_by = rejectedBy;
        record.status = 'filtered';
      }
    }
    survivors = survivors.filter((candidate) => recordOf(candidate.index).status !== 'filtered');
    verdicts = listwise.verdicts;
    winnerIndex = listwise.winnerIndex;
    if (listwise.winnerScore !== undefined) extraScores.listwise_score = listwise.winnerScore;
  } else if (selection.method === 'knockout' && survivors.length > 1) {
    const byIndex = new Map(survivors.map((candidate) => [candidate.index, candidate]));
    const result = await runKnockout({
      bracket: sampleWithoutReplacement(random, survivors, survivors.length).map((candidate) => candidate.index),
      compare: (first, second) => compare(byIndex.get(first)!, byIndex.get(second)!, 'a'),
      filterConfidence: filterConfidence(),
    });
    verdicts = result.verdicts;
    winnerIndex = result.winnerIndex;
  } else if (selection.method === 'round-robin' || survivors.length <= 1) {
    verdicts = (
      await Promise.all(
        survivors.flatMap((a, position) =>
          survivors.slice(position + 1).map((b) => compare(a, b, random() < 0.5 ? 'a' : 'b')),
        ),
      )
    ).flat();
  }

  const aggregate = aggregateVotes({
    candidateIndexes: survivors.map((candidate) => candidate.index),
    verdicts,
    filterConfidence: filterConfidence(),
  });
  if (selection.method === 'round-robin' || survivors.length <= 1) winnerIndex = aggregate.winnerIndex;

  for (const record of records) {
    if (record.status === 'filtered') continue;
    record.pairwise = verdicts.filter((verdict) => verdict.a === record.index || verdict.b === record.index);
    record.copeland = aggregate.copeland[record.index];
    if (record.index === winnerIndex) record.status = 'winner';
  }

  const reasons: Record<string, number> = {};
  for (const record of records) {
    if (record.filtered_by !== null) reasons[record.filtered_by] = (reasons[record.filtered_by] ?? 0) + 1;
  }

  const scores: Record<string, number> = {};
  const winner = records.find((record) => record.status === 'winner');
  if (winner) {
    for (const verdict of winner.filters) if (verdict.source === 'llm') scores[verdict.critic] = verdict.confidence;
    for (const critic of rankers) scores[critic.name] = aggregate.criticWins[winner.index]?.[critic.name] ?? 0;
    scores.copeland = aggregate.copeland[winner.index];
    Object.assign(scores, extraScores);
  }

  return { winnerIndex, records, reasons, scores, selection: describeSelection(selection), promptHashes };
}
