import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { toFile } from 'openai';
import { LlmError } from '../../errors.ts';
import { BatchStateLineSchema, type BatchStateLine } from '../../schemas/batch-state.ts';
import type { OpenAiConnection, OpenAiReply } from '../openai/openai-connection.ts';
import { isRetryableStatus, mapOpenAiError } from '../openai/map-openai-error.ts';

/** Progress of one batch, reported on every poll. */
export interface BatchProgress {
  batchId: string;
  status: string;
  /** Requests in the batch, done so far and failed so far (as the Batch API counts them). */
  total: number;
  completed: number;
  failed: number;
  /** True when this process found the batch in `batches.jsonl` rather than submitting it. */
  reattached: boolean;
}

export interface BatchingConnectionOptions {
  /** The endpoint (its SDK client uploads files and creates, polls and downloads batches). */
  connection: OpenAiConnection;
  /** `<run dir>/batches.jsonl`: batch ids and custom ids, appended as they change. */
  stateFile: string;
  /** Requests arriving within this window of each other go into one batch. @defaultValue 2000 */
  quietWindowMs?: number;
  /**
   * Most requests in one batch; more waiting at once are split over several batches (the OpenAI
   * Batch API takes 50,000 requests and 200 MB per input file; batches are also split at 190 MB).
   * @defaultValue 50000
   */
  maxRequestsPerBatch?: number;
  /** Time between two polls of a pending batch. @defaultValue 30000 */
  pollIntervalMs?: number;
  /** Called after each poll. */
  onProgress?: (progress: BatchProgress) => void;
  /**
   * The run's stop signal (Ctrl-C): once aborted, nothing more is submitted and every request
   * waiting for a batch rejects at once (not retryable), instead of the run waiting up to 24 h for
   * batches in flight; those keep running at the provider and a `--resume` re-attaches to them.
   * @defaultValue none
   */
  signal?: AbortSignal;
}

/** Counters of one process, for the run summary and tests. */
export interface BatchCounts {
  batchesSubmitted: number;
  batchesReattached: number;
  requestsSubmitted: number;
  requestsFailed: number;
}

interface ResultLine {
  custom_id: string;
  response?: { status_code: number; request_id?: string; body: unknown } | null;
  error?: { code?: string; message?: string } | null;
}

interface Upload {
  inputFileId: string;
  customIds: string[];
  requestsByStage: Record<string, number> | undefined;
  /** When the `uploaded` line was written (ISO 8601). */
  at: string;
}

interface Waiter {
  resolve: (reply: OpenAiReply & { batched: true }) => void;
  reject: (error: unknown) => void;
}

/** Input file size at which a batch is split (the OpenAI Batch API takes up to 200 MB). */
const MAX_BATCH_FILE_BYTES = 190 * 1024 * 1024;

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
    const text = await readFile(this.options.stateFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      // A line torn by a crash is skipped: a batch's `submitted` line is complete before its requests wait on it.
      const parsed = BatchStateLineSchema.safeParse(parseJsonOrUndefined(line));
      if (!parsed.success) continue;
      const { batch_id: batchId, status, custom_ids: customIds = [], input_file_id: inputFileId } = parsed.data;
      if (status === 'uploaded' && inputFileId) {
        const upload = { inputFileId, customIds, requestsByStage: parsed.data.requests_by_stage, at: parsed.data.at };
        for (const customId of customIds) this.uploadedIn.set(customId, upload);
      }
      if (batchId) for (const customId of customIds) this.batchOf.set(customId, batchId);
      for (const customId of parsed.data.failed_custom_ids ?? []) this.failed.add(customId);
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
      const requestsByStage = countByStage(entries.map(([, entry]) => entry.body));
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
        const lines = new Map<string, ResultLine>();
        for (const fileId of [batch.output_file_id, batch.error_file_id]) {
          if (!fileId) continue;
          const text = await (await client.files.content(fileId)).text();
          for (const raw of text.split('\n')) {
            if (!raw.trim()) continue;
            const line = JSON.parse(raw) as ResultLine;
            lines.set(line.custom_id, line);
          }
        }
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

/**
 * Requests by stage, named by the reply schema they ask for (`contradiction_checks`,
 * `listwise_ranking`, …); `text` for requests without one (the generator's conversations).
 */
function countByStage(bodies: unknown[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const body of bodies) {
    const format = (body as { response_format?: { type?: string; json_schema?: { name?: string } } }).response_format;
    const stage = format?.json_schema?.name ?? format?.type ?? 'text';
    counts[stage] = (counts[stage] ?? 0) + 1;
  }
  return counts;
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function stoppedError(when: string): LlmError {
  return new LlmError(`Stopped ${when}.`, { retryable: false });
}
