import { join, resolve } from 'node:path';
import type { RunConfig } from '../../schemas/run-config.ts';
import { OpenAiConnection, type ProxySettings } from '../openai/openai-connection.ts';
import { BatchingConnection, type BatchProgress } from './batching-connection.ts';

/** `batches.jsonl` of a run: where `--batch` keeps its batch ids. */
export function batchStateFile(config: Pick<RunConfig, 'out' | 'run_id'>): string {
  if (!config.run_id) throw new Error('batch mode needs the run id before the backend is created');
  return join(resolve(config.out), config.run_id, 'batches.jsonl');
}

/** The `BatchingConnection` of a `--batch` run, on the configured endpoint. */
export function createBatchingConnection(
  config: RunConfig,
  options: {
    baseUrl: string;
    proxy?: ProxySettings;
    onProgress?: (progress: BatchProgress) => void;
    /** The run's stop signal (see `BatchingConnectionOptions.signal`). */
    signal?: AbortSignal;
  },
): BatchingConnection {
  return new BatchingConnection({
    connection: new OpenAiConnection({
      baseUrl: options.baseUrl,
      apiKey: config.llm.api_key,
      timeoutMs: config.llm.timeout_ms,
      proxy: options.proxy,
    }),
    stateFile: batchStateFile(config),
    pollIntervalMs: config.llm.batch_poll_interval_ms,
    quietWindowMs: config.llm.batch_quiet_window_ms,
    onProgress: options.onProgress,
    signal: options.signal,
  });
}

/** One progress line, e.g. `batch batch_abc: in_progress, 12 of 40 done, 0 failed (re-attached)`. */
export function formatBatchProgress(progress: BatchProgress): string {
  return `batch ${progress.batchId}: ${progress.status}, ${progress.completed} of ${progress.total} done, ${progress.failed} failed${progress.reattached ? ' (re-attached)' : ''}`;
}
