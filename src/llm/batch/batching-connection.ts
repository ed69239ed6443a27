import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { toFile } from 'openai';
import { LlmError } from '../../errors.ts';
import type { BatchStateLine } from '../../schemas/batch-state.ts';
import type { OpenAiReply } from '../openai/openai-connection.ts';
import { isRetryableStatus, mapOpenAiError } from '../openai/map-openai-error.ts';
import { countRequestsByStage } from './count-requests-by-stage.ts';
import { readBatchStateLines, type Upload } from './read-batch-state-lines.ts';
import { readBatchResultLines, type ResultLine } from './read-batch-result-lines.ts';
import {
  MAX_BATCH_FILE_BYTES,
  type BatchCounts,
  type BatchingConnectionOptions,
} from './batching-connection-options.ts';

export type { BatchCounts, BatchingConnectionOptions, BatchProgress } from './batching-connection-options.ts';

interface Waiter {
  resolve: (reply: OpenAiReply & { batched: true }) => void;
  reject: (error: unknown) => void;
}

const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

/**
 * A drop-in for `OpenAiConnection.post('/chat/completions', …)` that sends chat completions
 * through the OpenAI Batch API (`--batch`, 50% off): requests that arrive within `quietWindowMs`
 * of each other are written as one JSONL file, uploaded (`/v1/files`, purpose `batch`) and
 * submitted (`/v1/batches`, 24 h window); the batch is polled until it ends, its output and error
 * files are downloaded, and each caller gets its own result line as an ordinary reply, so the
 * adapter above parses it like any other. With `--batch` the pairs of an iteration are in flight
 * together, so the generator calls form one batch, then each critic stage; profile planning asks
 * its contradiction checks in rounds (`CheckRounds`), one batch per round.
 *
 * Nothing is paid twice: a request's `custom_id` is a hash of its body, every batch's ids are
 * appended to `stateFile`, and a restarted run asking the same request waits for the batch that
 * already holds it. The upload is recorded before the batch is created, so a process killed in
 * between is found again too (the batch made from that file, looked up with `GET /v1/batches`). A request the batch reports as failed rejects with an `LlmError`
 * (`retryable` by status) so the ordinary retry policy decides; the retry goes into a later batch
 * under a new custom id. Other paths go to the connection unchanged.
 */
export class BatchingConnection {
  readonly baseUrl: string;
  readonly counts: BatchCounts = { batchesSubmitted: 0, batchesReattached: 0, requestsSubmitted: 0, requestsFailed: 0 };
  private readonly quietWindowMs: number;
  private readonly pollIntervalMs: number;
  private readonly pending = new Map<string, { body: unknown; waiters: Waiter[] }>();
  private readonly batchOf = new Map<string, string>();
  /** Requests of uploads with no `submitted` line (a crash between upload and record), by custom id. */
  private readonly uploadedIn = new Map<string, Upload>();
  private readonly recovering = new Map<string, Promise<string | undefined>>();
  private readonly failed = new Set<string>();
  private readonly results = new Map<string, Promise<Map<string, ResultLine>>>();
  private readonly submittedHere = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private loaded: Promise<void> | undefined;
  /** Aborted by `stop()`: wakes the pollers' sleeps. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: BatchingConnectionOptions) {
    this.baseUrl = options.connection.baseUrl;
    this.quietWindowMs = options.quietWindowMs ?? 2000;
    this.pollIntervalMs = options.pollIntervalMs ?? 30_000;
    options.signal?.addEventListener('abort', () => this.stop(), { once: true });
    if (options.signal?.aborted) this.stop();
  }

  async post(path: string, body: unknown, signal?: AbortSignal): Promise<OpenAiReply> {
    if (path !== '/chat/completions') return this.options.connection.post(path, body, signal);
    if (this.stopped) throw stoppedError('before the request was sent in a batch');
    await (this.loaded ??= this.loadState());
    const base = `pf-${createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32)}`;
    let customId = base;
    for (let retry = 1; this.failed.has(customId); retry++) customId = `${base}-${retry}`;
    const upload = this.batchOf.has(customId) ? undefined : this.uploadedIn.get(customId);
    const known = this.batchOf.get(customId) ?? (upload && (await this.recoverBatch(upload)));
    if (known !== undefined) return this.resultOf(known, customId);
    return new Promise((resolve, reject) => {
      const entry = this.pending.get(customId) ?? { body, waiters: [] };
      entry.waiters.push({ resolve, reject });
      this.pending.set(customId, entry);
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.flush(), this.quietWindowMs);
    });
  }

  /** Stops (see `stop`) and closes the connection. Batches in flight keep running at the provider. */
  async close(): Promise<void> {
    this.stop();
    await this.options.connection.close();
  }

  /**
   * Submits nothing more: requests not yet in a batch and those waiting for one reject with a
   * non-retryable `LlmError`. Batches in flight keep running at the provider (a restart re-attaches).
   */
  stop(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    for (const [, entry] of this.pending)
      for (const waiter of entry.waiters) waiter.reject(stoppedError('before the request was sent in a batch'));
    this.pending.clear();
    this.stopping.abort();
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async loadState(): Promise<void> {
    for (const line of await readBatchStateLines(this.options.stateFile)) {
      const { batch_id: batchId, status, custom_ids: customIds = [], input_file_id: inputFileId } = line;
      if (status === 'uploaded' && inputFileId) {
        const upload = { inputFileId, customIds, requestsByStage: line.requests_by_stage, at: line.at };
        for (const customId of customIds) this.uploadedIn.set(customId, upload);
      }
      if (batchId) for (const customId of customIds) this.batchOf.set(customId, batchId);
      for (const customId of line.failed_custom_ids ?? []) this.failed.add(customId);
    }
  }

  private async record(line: Omit<BatchStateLine, 'at'>): Promise<void> {
    await mkdir(dirname(this.options.stateFile), { recursive: true });
    await appendFile(this.options.stateFile, `${JSON.stringify({ ...line, at: new Date().toISOString() })}\n`);
  }

  private async flush(): Promise<void> {
    const entries = [...this.pending.entries()];
    this.pending.clear();
    const maxRequests = this.options.maxRequestsPerBatch ?? 50_000;
    let chunk: typeof entries = [];
    let chunkBytes = 0;
    for (const entry of entries) {
      const bytes = Buffer.byteLength(JSON.stringify(entry[1].body));
      if (chunk.length > 0 && (chunk.length >= maxRequests || chunkBytes + bytes > MAX_BATCH_FILE_BYTES)) {
        await this.submit(chunk);
        chunk = [];
        chunkBytes = 0;
      }
      chunk.push(entry);
      chunkBytes += bytes;
    }
    if (chunk.length > 0) await this.submit(chunk);
  }

  /** Uploads `entries` as one file and creates their batch; each waiter then waits for its result. */
  private async submit(entries: [string, { body: unknown; waiters: Waiter[] }][]): Promise<void> {
    const client = this.options.connection.client;
    const context = {
      baseUrl: this.baseUrl,
      timeoutMs: this.options.connection.timeoutMs,
      timedOut: false,
      aborted: false,
      phase: 'request' as const,
    };
    let batchId: string;
    try {
      const jsonl = entries
        .map(([customId, entry]) =>
          JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: entry.body }),
        )
        .join('\n');
      // Through the connection's dispatcher like every other request (proxy settings honoured).
      const file = await client.files.create({
        file: await toFile(Buffer.from(`${jsonl}\n`), 'persona-forge-batch.jsonl', { type: 'application/jsonl' }),
        purpose: 'batch',
      });
      const customIds = entries.map(([customId]) => customId);
      const requestsByStage = countRequestsByStage(entries.map(([, entry]) => entry.body));
      // Before the batch exists: a crash before its `submitted` line finds it again by this file.
      await this.record({
        status: 'uploaded',
        input_file_id: file.id,
        custom_ids: customIds,
        requests_by_stage: requestsByStage,
      });
      const batch = await client.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        metadata: { source: 'persona-forge' },
      });
      batchId = batch.id;
      await this.record({
        batch_id: batchId,
        status: 'submitted',
        input_file_id: file.id,
        custom_ids: customIds,
        requests_by_stage: requestsByStage,
      });
    } catch (error) {
      const mapped = mapOpenAiError(error, context);
      for (const [, entry] of entries) for (const waiter of entry.waiters) waiter.reject(mapped);
      return;
    }
    this.counts.batchesSubmitted += 1;
    this.counts.requestsSubmitted += entries.length;
    this.submittedHere.add(batchId);
    for (const [customId, entry] of entries) {
      this.batchOf.set(customId, batchId);
      for (const waiter of entry.waiters) this.resultOf(batchId, customId).then(waiter.resolve, waiter.reject);
    }
  }

  /** The batch created from `upload`'s file by an earlier process that stopped before recording it, if any. */
  private recoverBatch(upload: Upload): Promise<string | undefined> {
    let found = this.recovering.get(upload.inputFileId);
    if (!found) {
      found = this.findBatchOf(upload);
      this.recovering.set(upload.inputFileId, found);
      found.catch(() => this.recovering.delete(upload.inputFileId));
    }
    return found;
  }

  private async findBatchOf(upload: Upload): Promise<string | undefined> {
    // Listed newest first; the batch was created right after the upload line was written.
    const oldestSeconds = Date.parse(upload.at) / 1000 - 3600;
    let found: string | undefined;
    try {
      for await (const batch of this.options.connection.client.batches.list({ limit: 100 })) {
        if (batch.created_at < oldestSeconds) break;
        if (batch.input_file_id === upload.inputFileId) {
          found = batch.id;
          break;
        }
      }
    } catch (error) {
      throw mapOpenAiError(error, {
        baseUrl: this.baseUrl,
        timeoutMs: this.options.connection.timeoutMs,
        timedOut: false,
        aborted: false,
        phase: 'request',
      });
    }
    for (const customId of upload.customIds) this.uploadedIn.delete(customId);
    if (found === undefined) return undefined;
    await this.record({
      batch_id: found,
      status: 'submitted',
      input_file_id: upload.inputFileId,
      custom_ids: upload.customIds,
      requests_by_stage: upload.requestsByStage,
    });
    for (const customId of upload.customIds) this.batchOf.set(customId, found);
    return found;
  }

  private async resultOf(batchId: string, customId: string): Promise<OpenAiReply & { batched: true }> {
    let results = this.results.get(batchId);
    if (!results) {
      if (this.submittedHere.has(batchId)) results = this.waitForBatch(batchId);
      else {
        this.counts.batchesReattached += 1;
        results = this.record({ batch_id: batchId, status: 'reattached' }).then(() => this.waitForBatch(batchId));
      }
      this.results.set(batchId, results);
      results.catch(() => this.results.delete(batchId));
    }
    const line = (await results).get(customId);
    const status = line?.response?.status_code;
    if (line && status === 200)
      return { body: line.response!.body, requestId: line.response!.request_id, batched: true };

    this.failed.add(customId);
    this.counts.requestsFailed += 1;
    await this.record({ batch_id: batchId, status: 'request_failed', failed_custom_ids: [customId] });
    const reason =
      line?.error?.message ??
      (line?.response ? JSON.stringify(line.response.body).slice(0, 200) : 'no result line for the request');
    throw new LlmError(
      `Batch ${batchId} reported request ${customId} as failed${status ? ` (${status})` : ''}: ${reason}`,
      {
        status,
        retryable: status === undefined || isRetryableStatus(status),
        fault: status === 429 ? 'rate_limited' : 'server_error',
      },
    );
  }

  private async waitForBatch(batchId: string): Promise<Map<string, ResultLine>> {
    const client = this.options.connection.client;
    const reattached = !this.submittedHere.has(batchId);
    for (;;) {
      if (this.stopped)
        throw stoppedError(`while batch ${batchId} was pending (it keeps running; a --resume re-attaches to it)`);
      const batch = await client.batches.retrieve(batchId).catch((error: unknown) => {
        throw mapOpenAiError(error, {
          baseUrl: this.baseUrl,
          timeoutMs: this.options.connection.timeoutMs,
          timedOut: false,
          aborted: false,
          phase: 'request',
        });
      });
      const counts = batch.request_counts ?? { total: 0, completed: 0, failed: 0 };
      this.options.onProgress?.({ batchId, status: batch.status, ...counts, reattached });
      if (TERMINAL.has(batch.status)) {
        const lines = await readBatchResultLines(client, [batch.output_file_id, batch.error_file_id]);
        await this.record({
          batch_id: batchId,
          status: batch.status,
          output_file_id: batch.output_file_id,
          error_file_id: batch.error_file_id,
          request_counts: counts,
        });
        return lines;
      }
      await sleep(this.pollIntervalMs, undefined, { signal: this.stopping.signal }).catch(() => {});
    }
  }
}

function stoppedError(when: string): LlmError {
  return new LlmError(`Stopped ${when}.`, { retryable: false });
}
