import type { DatasetStatistics } from '../schemas/evaluation-result-schema.ts';
import type { RunReportData } from './read-run-report-data.ts';

/** What `renderRunReport` shows besides the run files. */
export interface RunReportView {
  data: RunReportData;
  /** Statistics of the run's conversations (null to leave the section out). */
  statistics: DatasetStatistics | null;
  /** A reference dataset, e.g. SPC or Persona-Chat. */
  reference: { label: string; statistics: DatasetStatistics } | null;
  /** Set when `statistics` were computed on a random sample of the run's conversations. */
  statisticsSample?: { conversations: number; of: number } | null;
  generatedAt: string;
  version: string;
}
