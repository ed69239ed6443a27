import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunReportData } from '../../src/evaluation/read-run-report-data.ts';
import { writeRunReport } from '../../src/evaluation/write-run-report.ts';
import { computeDatasetStatistics } from '../../src/evaluation/compute-dataset-statistics.ts';
import { ReservoirSample } from '../../src/evaluation/reservoir-sample.ts';
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
  it('ReservoirSample keeps every item up to its capacity, then a seeded uniform sample', () => {
    const sample = new ReservoirSample<number>(100, 1);
    for (let item = 0; item < 100; item++) sample.offer(item);
    expect(sample.items).toEqual(Array.from({ length: 100 }, (_, item) => item));
    expect(sample.sampled).toBe(false);
    for (let item = 100; item < 10_000; item++) sample.offer(item);
    expect(sample.items).toHaveLength(100);
    expect(sample.sampled).toBe(true);
    // Uniform: about half of the kept items come from the second half of the stream.
    const late = sample.items.filter((item) => item >= 5000).length;
    expect(late).toBeGreaterThan(30);
    expect(late).toBeLessThan(70);
    const same = new ReservoirSample<number>(100, 1);
    for (let item = 0; item < 10_000; item++) same.offer(item);
    expect(same.items).toEqual(sample.items);
  });

  it('LowestHashSelection keeps the lowest hashes, whatever the order of the stream', () => {
    const hashes = Array.from({ length: 1000 }, (_, index) => ((index * 7919) % 1000).toString(16).padStart(4, '0'));
    const selection = new LowestHashSelection<string>(25);
    for (const hash of hashes) selection.offer(hash, hash);
    expect(selection.items()).toEqual([...hashes].sort().slice(0, 25));
  });
});
