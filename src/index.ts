// persona-forge library API. The CLI (src/cli) is a thin layer over these exports.
export * from './schemas/index.ts';
export { runPipeline, defaultRunId, type PipelineDeps, type RunResult } from './pipeline/run-pipeline.ts';
export type { RunProgress } from './pipeline/run-progress.ts';
export { runPairJob, type PairJobDeps } from './pipeline/run-pair-job.ts';
export { createPairJobRunner, type PairJobRunner } from './pipeline/pair-job-runner.ts';
export { updatePool } from './pipeline/update-pool.ts';
export { loadRunConfig, parseRunConfig, readConfigFile, type ConfigSources } from './config/load-run-config.ts';
export type {
  LlmBackend,
  CompletionRequest,
  CompletionResult,
  ChatMessage,
  JsonResponseFormat,
} from './llm/llm-backend.ts';
export {
  OpenAiCompatibleBackend,
  type OpenAiCompatibleBackendOptions,
} from './llm/openai/openai-compatible-backend.ts';
export {
  BatchingConnection,
  type BatchingConnectionOptions,
  type BatchProgress,
  type BatchCounts,
} from './llm/batch/batching-connection.ts';
export { createBatchingConnection, formatBatchProgress } from './llm/batch/create-batching-connection.ts';
export { applyBatchMode } from './llm/batch/apply-batch-mode.ts';
export { completeStructured } from './llm/complete-structured.ts';
export { limitConcurrency } from './llm/limit-concurrency.ts';
export { cacheResponses } from './llm/cache-responses.ts';
export { buildLlmStack, type LlmStores, type LlmStackOptions } from './llm/build-llm-stack.ts';
export type { RateLimiter, RateLimitLease } from './llm/rate-limiter.ts';
export { openFileResponseCache } from './llm/file-response-cache.ts';
export type { ResponseCache } from './llm/response-cache.ts';
export { ConfigError, InputError, LlmError, EndpointUnreachableError, StructuredOutputError } from './errors.ts';
export type { Executor, ExecutorFactory, PairJobSource } from './pipeline/executor.ts';
export { iteratePairJobs } from './pipeline/executor.ts';
export { InProcessExecutor } from './pipeline/in-process-executor.ts';
export { buildGeneratorPrompt } from './generation/build-generator-prompt.ts';
export { parseConversation } from './generation/parse-conversation.ts';
export { loadPromptTemplate, defaultPromptTemplatePath } from './generation/load-prompt-template.ts';
export { loadCritics, defaultCriticsDir } from './critique/load-critics.ts';
export { lintConversation } from './critique/lint-conversation.ts';
export { aggregateVotes } from './critique/aggregate-votes.ts';
export { critiqueCandidates } from './critique/critique-candidates.ts';
export { loadSeedAttributes, defaultSeedPaths } from './personas/load-seed-attributes.ts';
export { loadSeedConversations } from './personas/load-seed-conversations.ts';
export { writeDatasetParquet, DATASET_PARQUET_SCHEMA } from './output/write-dataset-parquet.ts';
export { createRandom, deriveRandom } from './util/create-random.ts';
export { estimateRun, type RunEstimate } from './pipeline/estimate-run.ts';
// Local model
export { createLocalBackend, defaultCacheDir } from './llm/llama/create-local-backend.ts';
export { createLlamaCppBackend } from './llm/llama/create-llama-cpp-backend.ts';
export { LlamaCppBackend } from './llm/llama/llama-cpp-backend.ts';
// Scale-out
export { BullMqExecutor, type BullMqExecutorOptions } from './executors/bullmq-executor.ts';
export { startBullMqWorker, type BullMqWorkerOptions } from './executors/bullmq-worker.ts';
export {
  openBullMqCoordinator,
  type BullMqCoordinator,
  type BullMqCoordinatorOptions,
} from './executors/bullmq-coordinator.ts';
// Users and pairs
export { importDataset, importDatasetWithNotes } from './personas/importers/import-dataset.ts';
export type { ImportSummary, ImportSkipReason } from './schemas/import-summary.ts';
export { preparePairs } from './personas/prepare-pairs.ts';
export { expandPersonas } from './personas/expansion/expand-personas.ts';
export { buildConsistentProfiles } from './personas/build-consistent-profiles.ts';
export { pairByClusters } from './personas/pair-by-clusters.ts';
export { createEmbedder } from './llm/embedders/create-embedder.ts';
export type { Embedder } from './llm/embedders/embedder.ts';
// Evaluation and exports
export { evaluateDataset } from './evaluation/evaluate-dataset.ts';
export { computeDatasetStatistics } from './evaluation/compute-dataset-statistics.ts';
export { writeRunReport } from './evaluation/write-run-report.ts';
export { writeDatasetCard } from './output/write-dataset-card.ts';
export { exportDataset, EXPORT_FORMATS } from './output/export-dataset.ts';
