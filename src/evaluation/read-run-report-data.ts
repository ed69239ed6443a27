import { existsSync } from 'node:fs';
import { z } from 'zod';
import { join } from 'node:path';
import { CandidateRecordSchema, type CandidateRecord } from '../schemas/candidate-record.ts';
import { DatasetRowSchema, type DatasetRow } from '../schemas/dataset-row.ts';
import { hashText } from '../util/hash-text.ts';
import { EvaluationResultSchema, type EvaluationResult } from '../schemas/evaluation-result-schema.ts';
import { PlanLineViewSchema } from '../schemas/plan-line-view.ts';
import { LowestHashSelection } from './lowest-hash-selection.ts';
import { SelectionSample } from './selection-sample.ts';
import type { EvaluatedConversation } from './compute-dataset-statistics.ts';
import { RunManifestViewSchema, type RunManifestView } from '../schemas/run-manifest-view-schema.ts';
import { readJsonOrWarn } from './read-json-or-warn.ts';
import { readJsonlOrWarn } from './read-jsonl-or-warn.ts';

/** What the tally pass needs of a candidate record (validating whole records twice was most of the report's cost). */
/** What the counting pass needs of a row (turns only counted): rows the report keeps are validated in full. */
const RowTallySchema = DatasetRowSchema.pick({ run_id: true, iteration: true, pair_id: true, scores: true }).extend({
  turns: z.array(z.unknown()).min(2),
});

const CandidateTallySchema = CandidateRecordSchema.pick({
  iteration: true,
  pair_id: true,
  filtered_by: true,
  copeland: true,
  status: true,
});

/** Per-iteration counts derived from `candidates.jsonl` (used when the manifest lacks them). */
export interface CandidateTally {
  iteration: number;
  pairs: number;
  candidates: number;
  /** Pairs with a winner. */
  accepted: number;
  /** Pairs whose candidates were all filtered. */
  rejected: number;
  filtered_by: Record<string, number>;
}

/** A pair shown in the report's conversation browser. */
export interface SampledPair {
  iteration: number;
  pair_id: string;
  status: 'accepted' | 'rejected';
  user1_persona: string[] | null;
  user2_persona: string[] | null;
  /** The accepted row (scores, lineage), when accepted. */
  row: DatasetRow | null;
  candidates: CandidateRecord[];
}

/**
 * What the report shows of the accepted rows (`conversations.jsonl`): counts and distributions
 * over every row, plus a bounded, seeded sample for the statistics; never every row.
 */
export interface AcceptedRowsSummary {
  count: number;
  /** `run_id` of the first row. */
  firstRunId: string | null;
  byIteration: Record<number, number>;
  /** Utterances per conversation → rows. */
  utteranceCounts: Record<number, number>;
  /** Per score name (critics, `copeland`): value → rows. Values rounded to 4 significant digits. */
  scores: Map<string, Map<number, number>>;
  /**
   * Conversations for the dataset statistics: every row up to `statisticsSampleSize`, beyond that
   * a uniform random sample of that many in file order (selection sampling, seed fixed).
   */
  statisticsSample: EvaluatedConversation[];
}

/** Everything the run report shows, read leniently: missing or malformed files become warnings. */
export interface RunReportData {
  runDir: string;
  manifest: RunManifestView | null;
  config: Record<string, unknown> | null;
  rows: AcceptedRowsSummary;
  tallies: CandidateTally[];
  /** Copeland score of every ranked candidate (filtered ones have none): value → candidates. */
  copelandScores: Map<number, number>;
  samples: SampledPair[];
  evaluation: EvaluationResult | null;
  warnings: string[];
}

/** Options of `readRunReportData`. */
export interface ReadRunReportOptions {
  /** Pairs shown in the conversation browser. @defaultValue 60 */
  sampleSize?: number;
  /** Rows the dataset statistics are computed on at most. @defaultValue 10000 */
  statisticsSampleSize?: number;
  evaluation?: EvaluationResult | null;
}

/** Seed of the statistics sample: the same run directory always gives the same report. */
const STATISTICS_SAMPLE_SEED = 20240611;

const pairKey = (iteration: number, pairId: string) => `${iteration}/${pairId}`;

/**
 * Reads a run directory for the report in bounded memory, streaming each file:
 * 1. `candidates.jsonl`: per-iteration tallies, Copeland scores as value counts, and the pairs
 *    of the conversation browser (deterministic: pairs ordered by a hash of (iteration, pair id),
 *    alternating accepted and rejected ones; only the lowest hashes are held). A pair's candidates
 *    are contiguous in the file (the coordinator writes them in one append).
 * 2. `candidates.jsonl` again: the candidates of the sampled pairs.
 * 3. `conversations.jsonl`: counts and distributions over every row (checked for the fields
 *    counted), and the rows of the sampled pairs (validated in full).
 * 4. `conversations.jsonl` again: the seeded sample of rows for the statistics (see
 *    `AcceptedRowsSummary`), chosen as it passes now that the rows are counted.
 * 5. `plan.jsonl`, only when a sampled pair has no row: its personas.
 */
export async function readRunReportData(runDir: string, options: ReadRunReportOptions = {}): Promise<RunReportData> {
  const warnings: string[] = [];
  const file = (name: string) => join(runDir, name);
  const sampleSize = options.sampleSize ?? 60;

  const manifest = await readJsonOrWarn(file('manifest.json'), warnings, (value) => {
    const parsed = RunManifestViewSchema.safeParse(value);
    return parsed.success ? parsed.data : null;
  });
  const config = await readJsonOrWarn(file('config.json'), warnings, (value) =>
    value && typeof value === 'object' ? (value as Record<string, unknown>) : null,
  );
  let evaluation = options.evaluation ?? null;
  if (!evaluation && existsSync(file('evaluation.json'))) {
    evaluation = await readJsonOrWarn(file('evaluation.json'), warnings, (value) => {
      const parsed = EvaluationResultSchema.safeParse(value);
      return parsed.success ? parsed.data : null;
    });
  }

  const tallies = new Map<number, CandidateTally>();
  const copelandScores = new Map<number, number>();
  const acceptedPairs = new LowestHashSelection<PairStatus>(sampleSize);
  const rejectedPairs = new LowestHashSelection<PairStatus>(sampleSize);
  let pairCount = 0;
  let current: PairStatus | undefined;
  const finishPair = () => {
    if (!current) return;
    const tally = tallies.get(current.iteration)!;
    tally.pairs++;
    if (current.winner) tally.accepted++;
    else tally.rejected++;
    pairCount++;
    (current.winner ? acceptedPairs : rejectedPairs).offer(
      hashText(pairKey(current.iteration, current.pair_id)),
      current,
    );
    current = undefined;
  };
  let badCandidates = 0;
  await readJsonlOrWarn(file('candidates.jsonl'), warnings, (value) => {
    const parsed = CandidateTallySchema.safeParse(value);
    if (!parsed.success) {
      badCandidates++;
      return;
    }
    const candidate = parsed.data;
    let tally = tallies.get(candidate.iteration);
    if (!tally) {
      tally = { iteration: candidate.iteration, pairs: 0, candidates: 0, accepted: 0, rejected: 0, filtered_by: {} };
      tallies.set(candidate.iteration, tally);
    }
    tally.candidates++;
    if (candidate.filtered_by)
      tally.filtered_by[candidate.filtered_by] = (tally.filtered_by[candidate.filtered_by] ?? 0) + 1;
    if (candidate.copeland !== null) countValue(copelandScores, candidate.copeland);
    if (current?.iteration !== candidate.iteration || current.pair_id !== candidate.pair_id) {
      finishPair();
      current = { iteration: candidate.iteration, pair_id: candidate.pair_id, winner: false };
    }
    if (candidate.status === 'winner') current.winner = true;
  });
  finishPair();
  if (badCandidates > 0) warnings.push(`candidates.jsonl: ${badCandidates} line(s) are not candidate records, skipped`);

  const chosen = alternate(acceptedPairs.items(), rejectedPairs.items(), sampleSize);
  const candidatesByKey = new Map<string, CandidateRecord[]>(
    chosen.map((pair) => [pairKey(pair.iteration, pair.pair_id), []]),
  );
  if (chosen.length > 0) {
    await readJsonlOrWarn(file('candidates.jsonl'), [], (value) => {
      // Only the sampled pairs' candidates are validated in full.
      const raw = value as { iteration?: unknown; pair_id?: unknown } | null;
      if (typeof raw?.iteration !== 'number' || typeof raw.pair_id !== 'string') return;
      const sampled = candidatesByKey.get(pairKey(raw.iteration, raw.pair_id));
      if (!sampled) return;
      const parsed = CandidateRecordSchema.safeParse(value);
      if (parsed.success) sampled.push(parsed.data);
    });
  }

  const rows: AcceptedRowsSummary = {
    count: 0,
    firstRunId: null,
    byIteration: {},
    utteranceCounts: {},
    scores: new Map(),
    statisticsSample: [],
  };
  const rowsByKey = new Map<string, DatasetRow>();
  // Runs without candidates.jsonl still show their accepted conversations.
  const rowPairs = new LowestHashSelection<DatasetRow>(pairCount === 0 ? sampleSize : 0);
  let badShownRows = 0;
  await readJsonlOrWarn(file('conversations.jsonl'), warnings, (value, line) => {
    const counted = RowTallySchema.safeParse(value);
    if (!counted.success) {
      warnings.push(`conversations.jsonl:${line}: not a dataset row, skipped`);
      return;
    }
    const tallied = counted.data;
    const key = pairKey(tallied.iteration, tallied.pair_id);
    rows.count++;
    rows.firstRunId ??= tallied.run_id;
    rows.byIteration[tallied.iteration] = (rows.byIteration[tallied.iteration] ?? 0) + 1;
    rows.utteranceCounts[tallied.turns.length] = (rows.utteranceCounts[tallied.turns.length] ?? 0) + 1;
    for (const [name, score] of Object.entries(tallied.scores)) {
      let counts = rows.scores.get(name);
      if (!counts) rows.scores.set(name, (counts = new Map()));
      countValue(counts, score);
    }
    // Only rows the report keeps are validated in full (a validated copy of every row would be
    // built only to be dropped).
    let row: DatasetRow | null | undefined;
    const fullRow = () => {
      if (row !== undefined) return row;
      const parsed = DatasetRowSchema.safeParse(value);
      if (!parsed.success) badShownRows++;
      return (row = parsed.success ? parsed.data : null);
    };
    if (candidatesByKey.has(key) && fullRow()) rowsByKey.set(key, fullRow()!);
    if (rowPairs.size > 0 && fullRow()) rowPairs.offer(hashText(key), fullRow()!);
  });
  if (badShownRows > 0)
    warnings.push(`conversations.jsonl: ${badShownRows} row(s) are not valid dataset rows, not shown`);
  const selection = new SelectionSample(rows.count, options.statisticsSampleSize ?? 10_000, STATISTICS_SAMPLE_SEED);
  if (rows.count > 0) {
    await readJsonlOrWarn(file('conversations.jsonl'), [], (value) => {
      if (!RowTallySchema.safeParse(value).success || !selection.take()) return;
      const parsed = DatasetRowSchema.safeParse(value);
      if (!parsed.success) return;
      const { id, iteration, user1_persona, user2_persona, turns } = parsed.data;
      rows.statisticsSample.push({ id, iteration, user1_persona, user2_persona, turns });
    });
  }
  const planPersonas = new Map<string, { user1: string[]; user2: string[] }>();
  if (chosen.some((pair) => !rowsByKey.has(pairKey(pair.iteration, pair.pair_id))) && existsSync(file('plan.jsonl'))) {
    await readJsonlOrWarn(file('plan.jsonl'), [], (value) => {
      const parsed = PlanLineViewSchema.safeParse(value);
      if (!parsed.success) return;
      const key = pairKey(parsed.data.iteration, parsed.data.pair.id);
      if (candidatesByKey.has(key))
        planPersonas.set(key, { user1: parsed.data.pair.user1.attributes, user2: parsed.data.pair.user2.attributes });
    });
  }
  const samples: SampledPair[] = chosen.map((pair) => {
    const key = pairKey(pair.iteration, pair.pair_id);
    const row = rowsByKey.get(key) ?? null;
    const planned = planPersonas.get(key);
    return {
      iteration: pair.iteration,
      pair_id: pair.pair_id,
      status: pair.winner ? 'accepted' : 'rejected',
      user1_persona: row?.user1_persona ?? planned?.user1 ?? null,
      user2_persona: row?.user2_persona ?? planned?.user2 ?? null,
      row,
      candidates: (candidatesByKey.get(key) ?? []).sort((left, right) => left.candidate_index - right.candidate_index),
    };
  });
  for (const row of rowPairs.items()) {
    samples.push({
      iteration: row.iteration,
      pair_id: row.pair_id,
      status: 'accepted',
      user1_persona: row.user1_persona,
      user2_persona: row.user2_persona,
      row,
      candidates: [],
    });
  }

  return {
    runDir,
    manifest,
    config,
    rows,
    tallies: [...tallies.values()].sort((left, right) => left.iteration - right.iteration),
    copelandScores,
    samples: samples.sort(
      (left, right) => left.iteration - right.iteration || left.pair_id.localeCompare(right.pair_id),
    ),
    evaluation,
    warnings,
  };
}

interface PairStatus {
  iteration: number;
  pair_id: string;
  winner: boolean;
}

/** Scores are counted at 4 significant digits: histogram bins are far wider, and distinct values stay few. */
function countValue(counts: Map<number, number>, value: number): void {
  const rounded = Number.isInteger(value) ? value : Number(value.toPrecision(4));
  counts.set(rounded, (counts.get(rounded) ?? 0) + 1);
}

/** Accepted and rejected pairs in turn (each list lowest hash first) until `size` are chosen. */
function alternate<T>(accepted: T[], rejected: T[], size: number): T[] {
  const chosen: T[] = [];
  let nextAccepted = 0;
  let nextRejected = 0;
  while (chosen.length < size && (nextAccepted < accepted.length || nextRejected < rejected.length)) {
    const takeAccepted = chosen.length % 2 === 0 ? nextAccepted < accepted.length : nextRejected >= rejected.length;
    chosen.push(takeAccepted ? accepted[nextAccepted++] : rejected[nextRejected++]);
  }
  return chosen;
}
