import type { CriticDefinition, FilterVerdict, PairwiseVerdict } from '../schemas/critic.ts';
import type { Pair } from '../schemas/pair.ts';
import type { Turn } from '../schemas/turn.ts';
import type { LlmBackend } from '../llm/llm-backend.ts';
import type { CombinedPanel } from '../schemas/combined-panel.ts';
import { aggregateVotes } from './aggregate-votes.ts';
import { lintConversation } from './lint-conversation.ts';
import { runFilterCritic } from './run-filter-critic.ts';
import { runPairwiseCritic } from './run-pairwise-critic.ts';
import { runCombinedPanel } from './combined-panel-run.ts';

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
}

/**
 * Runs the critic stage on one pair's candidates:
 * 1. lint checks (free): a candidate failing any of them is filtered without an LLM call;
 * 2. LLM filter critics in order, per candidate (candidates in parallel); once one rejects, the
 *    remaining filters are skipped for that candidate;
 * 3. every pairwise ranker on every pair of survivors, each asked in both orders (all in parallel),
 *    or with `deps.panel` one combined panel call per order for all rankers at once;
 *    a single survivor wins without comparisons, no survivor means no winner;
 * 4. `aggregateVotes` (Copeland, tie-break by mean LLM-filter confidence, then lower index).
 */
export async function critiqueCandidates(
  input: CritiqueCandidatesInput,
  deps: CritiqueCandidatesDeps,
): Promise<CritiqueResult> {
  const { pair, candidates } = input;
  const { backend, options } = deps;
  const indexes = candidates.map((candidate) => candidate.index);
  if (new Set(indexes).size !== indexes.length) throw new Error(`duplicate candidate indexes: ${indexes.join(', ')}`);

  const enabled = deps.critics.filter((critic) => critic.enabled);
  const filterCritics = enabled.filter((critic) => critic.kind === 'filter');
  const rankers = enabled.filter((critic) => critic.kind === 'pairwise');
  const personas = { user1Persona: pair.user1.attributes, user2Persona: pair.user2.attributes };
  const criticDeps = {
    backend,
    options: { temperature: options.temperature, maxOutputTokens: options.maxOutputTokens, seed: options.seed },
  };

  const records: CandidateCritique[] = await Promise.all(
    candidates.map(async (candidate) => {
      const filters = lintConversation(
        { turns: candidate.turns, rawText: candidate.rawText, parseError: candidate.parseError, ...personas },
        { minTurns: options.minTurns, maxTurns: options.maxTurns },
      );
      let filteredBy = filters.find((verdict) => !verdict.passed)?.critic ?? null;
      // Sequential on purpose: a rejection saves the remaining filters' calls.
      for (const critic of filteredBy === null ? filterCritics : []) {
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

  const survivors = candidates.filter((_candidate, position) => records[position].status !== 'filtered');
  const comparisons = survivors.flatMap((a, position) =>
    survivors.slice(position + 1).flatMap((b) => rankers.map((critic) => ({ critic, a, b }))),
  );
  const panel = deps.panel;
  const verdicts = panel
    ? (
        await Promise.all(
          survivors.flatMap((a, position) =>
            survivors
              .slice(position + 1)
              .map((b) => runCombinedPanel({ panel, dimensions: rankers, ...personas, a, b }, criticDeps)),
          ),
        )
      ).flat()
    : await Promise.all(
        comparisons.map(({ critic, a, b }) => runPairwiseCritic({ critic, ...personas, a, b }, criticDeps)),
      );

  const filterConfidence: Record<number, number> = {};
  for (const record of records) {
    const llmVerdicts = record.filters.filter((verdict) => verdict.source === 'llm');
    filterConfidence[record.index] = llmVerdicts.length
      ? llmVerdicts.reduce((sum, verdict) => sum + verdict.confidence, 0) / llmVerdicts.length
      : 1;
  }
  const aggregate = aggregateVotes({
    candidateIndexes: survivors.map((candidate) => candidate.index),
    verdicts,
    filterConfidence,
  });

  for (const record of records) {
    if (record.status === 'filtered') continue;
    record.pairwise = verdicts.filter((verdict) => verdict.a === record.index || verdict.b === record.index);
    record.copeland = aggregate.copeland[record.index];
    if (record.index === aggregate.winnerIndex) record.status = 'winner';
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
  }

  return { winnerIndex: aggregate.winnerIndex, records, reasons, scores };
}
