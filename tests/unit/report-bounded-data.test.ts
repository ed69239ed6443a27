import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunReportData } from '../../src/evaluation/read-run-report-data.ts';
import { writeRunReport } from '../../src/evaluation/write-run-report.ts';
import { computeDatasetStatistics } from '../../src/evaluation/compute-dataset-statistics.ts';
import { SelectionSample } from '../../src/evaluation/selection-sample.ts';
import { LowestHashSelection } from '../../src/evaluation/lowest-hash-selection.ts';
import { DatasetRowSchema } from '../../src/schemas/dataset-row.ts';
import { writeLargeRunDirectory, type LargeRun } from '../fixtures/write-large-run-directory.ts';

let directory: string;
let run: LargeRun;
beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'pf-report-bounded-'));
  run = writeLargeRunDirectory(join(directory, 'run'), { pairs: 600, iterations: 2 });
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const allRows = () =>
  readFileSync(join(run.dir, 'conversations.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => DatasetRowSchema.parse(JSON.parse(line)));

describe('readRunReportData', () => {
  it('counts every row and candidate but holds only bounded samples', async () => {
    const data = await readRunReportData(run.dir, { sampleSize: 10, statisticsSampleSize: 50 });
    expect(data.rows.count).toBe(run.accepted);
    expect(data.rows.byIteration).toEqual({ 1: 200, 2: 200 });
    expect(Object.values(data.rows.utteranceCounts).reduce((sum, count) => sum + count, 0)).toBe(run.accepted);
    expect(data.rows.statisticsSample).toHaveLength(50);
    expect(data.samples).toHaveLength(10);
    expect(data.samples.filter((sample) => sample.status === 'accepted')).toHaveLength(5);
    expect(data.samples.every((sample) => sample.candidates.length === 2)).toBe(true);
    expect(data.samples.filter((sample) => sample.row !== null)).toHaveLength(5);
    expect(data.tallies.map((tally) => [tally.pairs, tally.accepted, tally.rejected])).toEqual([
      [300, 200, 100],
      [300, 200, 100],
    ]);
    // Two ranked candidates per accepted pair, scored +1 and -1.
    expect(data.copelandScores).toEqual(
      new Map([
        [1, 400],
        [-1, 400],
      ]),
    );
    // Score histograms count every row.
    expect([...data.rows.scores.get('faithfulness')!.values()].reduce((sum, count) => sum + count, 0)).toBe(400);
    // The same directory gives the same sample.
    const again = await readRunReportData(run.dir, { sampleSize: 10, statisticsSampleSize: 50 });
    expect(again.rows.statisticsSample.map((row) => row.id)).toEqual(data.rows.statisticsSample.map((row) => row.id));
    expect(again.samples.map((sample) => sample.pair_id)).toEqual(data.samples.map((sample) => sample.pair_id));
  });

  it('computes the statistics on every row when the run fits the sample, and says when it samples', async () => {
    const data = await readRunReportData(run.dir);
    expect(data.rows.statisticsSample).toHaveLength(run.accepted);
    expect(computeDatasetStatistics(data.rows.statisticsSample)).toEqual(computeDatasetStatistics(allRows()));

    const full = await writeRunReport(run.dir, { outputPath: join(directory, 'full.html') });
    expect(readFileSync(full, 'utf8')).not.toContain('seeded random sample');
    const sampled = await writeRunReport(run.dir, {
      outputPath: join(directory, 'sampled.html'),
      statisticsSampleSize: 50,
    });
    const html = readFileSync(sampled, 'utf8');
    expect(html).toContain('seeded random sample of 50 of its 400 conversations');
    expect(html).toMatch(/<b>400<\/b><span>accepted<\/span>/);
  });
});

describe('bounded samplers', () => {
  it('SelectionSample takes exactly its size, uniformly and in order, deciding each record once', () => {
    const pick = (population: number, size: number, seed: number) => {
      const sample = new SelectionSample(population, size, seed);
      const taken: number[] = [];
      for (let item = 0; item < population; item++) if (sample.take()) taken.push(item);
      return { taken, sample };
    };
    const all = pick(100, 100, 1);
    expect(all.taken).toEqual(Array.from({ length: 100 }, (_, item) => item));
    expect(all.sample.sampled).toBe(false);
    expect(pick(40, 100, 1).taken).toHaveLength(40);
    const { taken, sample } = pick(10_000, 100, 1);
    expect(taken).toHaveLength(100);
    expect(sample.sampled).toBe(true);
    // Uniform: about half of the taken records come from the second half of the stream.
    const late = taken.filter((item) => item >= 5000).length;
    expect(late).toBeGreaterThan(30);
    expect(late).toBeLessThan(70);
    expect(pick(10_000, 100, 1).taken).toEqual(taken);
    expect(pick(10_000, 100, 2).taken).not.toEqual(taken);
  });

  it('LowestHashSelection keeps the lowest hashes, whatever the order of the stream', () => {
    const hashes = Array.from({ length: 1000 }, (_, index) => ((index * 7919) % 1000).toString(16).padStart(4, '0'));
    const selection = new LowestHashSelection<string>(25);
    for (const hash of hashes) selection.offer(hash, hash);
    expect(selection.items()).toEqual([...hashes].sort().slice(0, 25));
  });
});
