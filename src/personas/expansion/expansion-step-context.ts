import type { Embedder } from '../../llm/embedders/embedder.ts';
import type { CompletionUsage, LlmBackend } from '../../llm/llm-backend.ts';
import type { ExpansionStats } from '../../schemas/persona-expansion.ts';
import type { expansionPaths } from './expansion-files.ts';

export interface ExpansionProgress {
  phase: 'cluster' | 'induce-queries' | 'bootstrap-queries' | 'bootstrap-personas' | 'done';
  /** Units done / planned in this phase (clusters, steps, attributes). */
  done: number;
  total: number;
  /** Attributes in the output so far. */
  attributes: number;
}

/** `ExpandPersonasInput` settings with every default applied; meanings and units are documented there. */
export interface ExpansionSettings {
  clusterThreshold: number;
  nearDuplicateThreshold: number;
  queryBootstrapSteps: number;
  questionsPerStep: number;
  samplesPerCluster: number;
  examplesPerPrompt: number;
  concurrency: number;
  temperature: number;
  maxOutputTokens: number;
}

/** What every expansion step shares. `usage` and `rejected` are running totals the steps add to. */
export interface ExpansionStepContext {
  /** Seed of every random choice. */
  seed: number;
  settings: ExpansionSettings;
  backend: LlmBackend;
  embedder: Embedder;
  paths: ReturnType<typeof expansionPaths>;
  usage: CompletionUsage;
  rejected: ExpansionStats['rejected'];
  report: (progress: ExpansionProgress) => void;
  /** True once the caller's signal has aborted; steps check it between batches. */
  aborted: () => boolean;
}
