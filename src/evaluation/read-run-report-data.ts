import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CandidateRecordSchema, type CandidateRecord } from '../schemas/candidate-record.ts';
import { DatasetRowSchema, type DatasetRow } from '../schemas/dataset-row.ts';
import { hashText } from '../util/hash-text.ts';
import { EvaluationResultSchema, type EvaluationResult } from '../schemas/evaluation-result-schema.ts';
import { readJsonlLines } from './read-jsonl-lines.ts';
import { RunManifestViewSchema, type RunManifestView } from '../schemas/run-manifest-view-schema.ts';

/** What the tally pass needs of a candidate record (validating whole records twice was most of the report's cost). */
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

/** Everything the run report shows, read leniently: missing or malformed files become warnings. */
export interface RunReportData {
  runDir: string;
  manifest: RunManifestView | null;
  config: Record<string, unknown> | null;
  rows: DatasetRow[];
  tallies: CandidateTally[];
  /** Copeland score of every ranked candidate (filtered ones have none). */
  copelandScores: number[];
  samples: SampledPair[];
  evaluation: EvaluationResult | null;
  warnings: string[];
}

const PlanLineSchema = z.object({
  iteration: z.number().int(),
  pair: z.object({
    id: z.string(),
    user1: z.object({ attributes: z.array(z.string()) }),
    user2: z.object({ attributes: z.array(z.string()) }),
  }),
});

const pairKey = (iteration: number, pairId: string) => `${iteration}/${pairId}`;

/**
 * Reads a run directory for the report. `candidates.jsonl` is streamed twice (tally, then the
 * candidates of the sampled pairs), so large runs need little memory. The sample is deterministic:
 * pairs ordered by a hash of (iteration, pair id), alternating accepted and rejected ones.
 */
export async function readRunReportData(
  runDir: string,
  options: { sampleSize?: number; evaluation?: EvaluationResult | null } = {},
): Promise<RunReportData> {
  const warnings: string[] = [];
  const file = (name: string) => join(runDir, name);

  const manifest = await readJsonFile(file('manifest.json'), warnings, (value) => {
    const parsed = RunManifestViewSchema.safeParse(value);
    return parsed.success ? parsed.data : null;
  });
  const config = await readJsonFile(file('config.json'), warnings, (value) =>
    value && typeof value === 'object' ? (value as Record<string, unknown>) : null,
  );
  let evaluation = options.evaluation ?? null;
  if (!evaluation && existsSync(file('evaluation.json'))) {
    evaluation = await readJsonFile(file('evaluation.json'), warnings, (value) => {
      const parsed = EvaluationResultSchema.safeParse(value);
      return parsed.success ? parsed.data : null;
    });
  }

  const rows: DatasetRow[] = [];
  await readLenient(file('conversations.jsonl'), warnings, (value, line) => {
    const parsed = DatasetRowSchema.safeParse(value);
    if (parsed.success) rows.push(parsed.data);
    else warnings.push(`conversations.jsonl:${line}: not a dataset row, skipped`);
  });

  const pairs = new Map<string, { iteration: number; pair_id: string; winner: boolean }>();
  const tallies = new Map<number, CandidateTally>();
  const copelandScores: number[] = [];
  let badCandidates = 0;
  await readLenient(file('candidates.jsonl'), warnings, (value) => {
    const parsed = CandidateTallySchema.safeParse(value);
    if (!parsed.success) {
      badCandidates++;
      return;
    }
    const candidate = parsed.data;
    const key = pairKey(candidate.iteration, candidate.pair_id);
    let tally = tallies.get(candidate.iteration);
    if (!tally) {
      tally = { iteration: candidate.iteration, pairs: 0, candidates: 0, accepted: 0, rejected: 0, filtered_by: {} };
      tallies.set(candidate.iteration, tally);
    }
    tally.candidates++;
    if (candidate.filtered_by)
      tally.filtered_by[candidate.filtered_by] = (tally.filtered_by[candidate.filtered_by] ?? 0) + 1;
    if (candidate.copeland !== null) copelandScores.push(candidate.copeland);
    const pair = pairs.get(key);
    if (!pair)
      pairs.set(key, {
        iteration: candidate.iteration,
        pair_id: candidate.pair_id,
        winner: candidate.status === 'winner',
      });
    else if (candidate.status === 'winner') pair.winner = true;
  });
  if (badCandidates > 0) warnings.push(`candidates.jsonl: ${badCandidates} line(s) are not candidate records, skipped`);
  for (const pair of pairs.values()) {
    const tally = tallies.get(pair.iteration)!;
    tally.pairs++;
    if (pair.winner) tally.accepted++;
    else tally.rejected++;
  }

  const chosen = choosePairs([...pairs.values()], options.sampleSize ?? 60);
  const candidatesByKey = new Map<string, CandidateRecord[]>(
    chosen.map((pair) => [pairKey(pair.iteration, pair.pair_id), []]),
  );
  if (chosen.length > 0) {
    await readLenient(file('candidates.jsonl'), [], (value) => {
      // Only the sampled pairs' candidates are validated in full.
      const raw = value as { iteration?: unknown; pair_id?: unknown } | null;
      if (typeof raw?.iteration !== 'number' || typeof raw.pair_id !== 'string') return;
      const sampled = candidatesByKey.get(pairKey(raw.iteration, raw.pair_id));
      if (!sampled) return;
      const parsed = CandidateRecordSchema.safeParse(value);
      if (parsed.success) sampled.push(parsed.data);
    });
  }
  const rowsByKey = new Map(rows.map((row) => [pairKey(row.iteration, row.pair_id), row]));
  const planPersonas = new Map<string, { user1: string[]; user2: string[] }>();
  if (chosen.some((pair) => !rowsByKey.has(pairKey(pair.iteration, pair.pair_id))) && existsSync(file('plan.jsonl'))) {
    await readLenient(file('plan.jsonl'), [], (value) => {
      const parsed = PlanLineSchema.safeParse(value);
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
  // Runs without candidates.jsonl still show their accepted conversations.
  if (pairs.size === 0) {
    for (const row of choosePairs(
      rows.map((row) => ({ ...row, winner: true })),
      options.sampleSize ?? 60,
    )) {
      samples.push({
        iteration: row.iteration,
        pair_id: row.pair_id,
        status: 'accepted',
        user1_persona: row.user1_persona,
        user2_persona: row.user2_persona,
        row: rowsByKey.get(pairKey(row.iteration, row.pair_id)) ?? null,
        candidates: [],
      });
    }
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

/** Deterministic sample: by hash of the pair key, alternating accepted and rejected pairs. */
function choosePairs<T extends { iteration: number; pair_id: string; winner: boolean }>(pairs: T[], size: number): T[] {
  const ordered = pairs
    .map((pair) => ({ pair, hash: hashText(pairKey(pair.iteration, pair.pair_id)) }))
    .sort((left, right) => (left.hash < right.hash ? -1 : left.hash > right.hash ? 1 : 0))
    .map((entry) => entry.pair);
  const accepted = ordered.filter((pair) => pair.winner);
  const rejected = ordered.filter((pair) => !pair.winner);
  const chosen: T[] = [];
  while (chosen.length < size && (accepted.length > 0 || rejected.length > 0)) {
    const next = (
      chosen.length % 2 === 0 ? (accepted.shift() ?? rejected.shift()) : (rejected.shift() ?? accepted.shift())
    )!;
    chosen.push(next);
  }
  return chosen;
}

async function readJsonFile<T>(
  path: string,
  warnings: string[],
  accept: (value: unknown) => T | null,
): Promise<T | null> {
  if (!existsSync(path)) return null;
  try {
    const value = accept(JSON.parse(await readFile(path, 'utf8')));
    if (value === null) warnings.push(`${path}: unexpected content (another persona-forge version?), not shown`);
    return value;
  } catch (error) {
    warnings.push(`${path}: cannot read (${(error as Error).message})`);
    return null;
  }
}

async function readLenient(
  path: string,
  warnings: string[],
  onRecord: (value: unknown, line: number) => void,
): Promise<void> {
  if (!existsSync(path)) return;
  try {
    await readJsonlLines(path, onRecord, { tolerateTornTail: true });
  } catch (error) {
    warnings.push(`${path}: ${(error as Error).message}; the rest of the file is not shown`);
  }
}
