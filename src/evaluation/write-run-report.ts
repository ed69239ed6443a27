import { rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PACKAGE_VERSION } from '../util/package-version.ts';
import { computeDatasetStatistics } from './compute-dataset-statistics.ts';
import type { DatasetStatistics, EvaluationResult } from '../schemas/evaluation-result-schema.ts';
import { loadConversations } from './load-conversations.ts';
import { readRunReportData } from './read-run-report-data.ts';
import { renderRunReport } from './render-run-report.ts';

/** Options of `writeRunReport`; every field is optional. */
export interface WriteRunReportOptions {
  /** Reference dataset file (SPC CSV, Persona-Chat text, JSONL, Parquet) drawn beside the run. @defaultValue the reference of `evaluation.json`, if any */
  reference?: string;
  /** Evaluation results to show. @defaultValue `<runDir>/evaluation.json` when present and valid */
  evaluation?: EvaluationResult;
  /** Pairs shown in the conversation browser. @defaultValue 60 */
  sampleSize?: number;
  /** Compute dataset statistics of the run's rows (a few seconds for 20k rows). @defaultValue true */
  statistics?: boolean;
  /**
   * Rows the statistics are computed on at most: larger runs use a seeded random sample of this
   * many, so memory stays bounded (`persona-forge evaluate` measures every row). @defaultValue 10000
   */
  statisticsSampleSize?: number;
  /** Output file. @defaultValue `<runDir>/report.html` */
  outputPath?: string;
}

/**
 * Writes `report.html` for a run directory: per-iteration acceptance, rejections by critic, score
 * distributions, lengths against a reference, statistics, LLM-judge results, tokens and cost, and
 * a browsable sample of candidates with verdicts and rationales. Works on partial runs (missing
 * manifest, no candidates, no evaluation, no reference): absent parts are shown as such. Written
 * through a temporary file and a rename. Returns the report path.
 */
export async function writeRunReport(runDir: string, options: WriteRunReportOptions = {}): Promise<string> {
  const data = await readRunReportData(runDir, {
    sampleSize: options.sampleSize,
    statisticsSampleSize: options.statisticsSampleSize,
    evaluation: options.evaluation ?? null,
  });
  const evaluation = data.evaluation;
  const fromSample = options.statistics !== false && !evaluation?.statistics.dataset;
  const statistics: DatasetStatistics | null =
    options.statistics === false
      ? null
      : (evaluation?.statistics.dataset ?? computeDatasetStatistics(data.rows.statisticsSample));
  const statisticsSample =
    fromSample && data.rows.statisticsSample.length < data.rows.count
      ? { conversations: data.rows.statisticsSample.length, of: data.rows.count }
      : null;

  let reference: { label: string; statistics: DatasetStatistics } | null = null;
  if (options.reference) {
    try {
      const loaded = await loadConversations(options.reference);
      reference = {
        label: `reference (${basename(options.reference)})`,
        statistics: computeDatasetStatistics(loaded.conversations),
      };
    } catch (error) {
      data.warnings.push(`reference ${options.reference}: ${(error as Error).message}`);
    }
  } else if (evaluation?.statistics.reference && evaluation.reference) {
    reference = {
      label: `reference (${basename(evaluation.reference.path)})`,
      statistics: evaluation.statistics.reference,
    };
  }

  const html = renderRunReport({
    data,
    statistics,
    reference,
    statisticsSample,
    generatedAt: new Date().toISOString(),
    version: PACKAGE_VERSION,
  });
  const outputPath = options.outputPath ?? join(runDir, 'report.html');
  const temporaryPath = `${outputPath}.${process.pid}.tmp`;
  await writeFile(temporaryPath, html, 'utf8');
  await rename(temporaryPath, outputPath);
  return outputPath;
}
