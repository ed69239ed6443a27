import { LlmError } from '../errors.ts';
import { addLlmFaults, emptyLlmFaults, type LlmFaults } from '../schemas/llm-faults.ts';
import type { CompletionRequest, CompletionResult, LlmBackend } from './llm-backend.ts';
import { estimateTokens } from './estimate-tokens.ts';
import { LatencyDeadlines, type LatencyDeadlineOptions } from './latency-deadlines.ts';
import { contextCapabilityOf } from './with-context-length.ts';
import { carryFaults } from './carried-faults.ts';

/** Options of `hedgeBackend`: how the deadline is learned (see `LatencyDeadlines`). */
export interface HedgeOptions extends LatencyDeadlineOptions {
  /** Copies of one request in flight at most (the original included). @defaultValue 5 */
  maxCopies?: number;
  /** Clock (tests). @defaultValue performance.now */
  now?: () => number;
}

interface Copy {
  controller: AbortController;
  startedAt: number;
  done: boolean;
}

/**
 * A backend decorator that keeps a hung request from costing the full timeout. Each request gets a
 * deadline learned from the latencies of earlier successful requests of the same role and model
 * (`LatencyDeadlines`: 2 × p95, at least 1 s, at most the request timeout; 30 s before the first
 * reply of that role and model). A request still unanswered at its deadline is hedged: another
 * copy is sent and the first answer wins (the others are aborted); a copy unanswered for a full
 * deadline of its own gets the next one, up to `maxCopies` in flight. Nothing is given up before
 * the request timeout: a copy that is merely slow keeps running, its latency is learned when it
 * answers, and an endpoint that slows down never loops through abandoned requests. A copy that
 * fails ends the call with its error (the others are aborted); the retry policy decides the rest.
 *
 * `result.usage.faults` reports the hedges sent, the copies abandoned (losers) and their estimated
 * prompt tokens; `usage.calls` includes the abandoned copies (they were sent). Put it right around
 * the adapter, inside the concurrency limit, so latencies are the endpoint's, not the queue's; the
 * hedge copies are the requests allowed beyond the limit.
 */
export function hedgeBackend(backend: LlmBackend, options: HedgeOptions): LlmBackend {
  const deadlines = new LatencyDeadlines(options);
  const now = options.now ?? (() => performance.now());
  const maxCopies = options.maxCopies ?? 5;
  if (!Number.isInteger(maxCopies) || maxCopies < 1)
    throw new RangeError(`Expected \`maxCopies\` to be a positive integer, got ${maxCopies}.`);

  const complete = (request: CompletionRequest): Promise<CompletionResult> => {
    const key = `${request.role}:${backend.modelFor(request.role)}`;
    const copies: Copy[] = [];
    return new Promise<CompletionResult>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;

      const abandonOthers = (keep: Copy | undefined): LlmFaults => {
        const faults = { ...emptyLlmFaults(), hedges: copies.length - 1 };
        for (const copy of copies) {
          if (copy === keep || copy.done) continue;
          copy.done = true;
          copy.controller.abort();
          faults.abandoned += 1;
          faults.abandoned_prompt_tokens += promptTokensOf(request);
        }
        return faults;
      };
      const finish = () => {
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onCallerAbort);
      };
      const onCallerAbort = () => {
        if (settled) return;
        finish();
        abandonOthers(undefined);
        reject(new LlmError('LLM request was aborted.', { retryable: false }));
      };

      const launch = () => {
        const copy: Copy = { controller: new AbortController(), startedAt: now(), done: false };
        copies.push(copy);
        const signal = request.signal
          ? AbortSignal.any([request.signal, copy.controller.signal])
          : copy.controller.signal;
        backend.complete(Object.assign({}, request, { signal })).then(
          (result) => {
            if (copy.done || settled) return;
            copy.done = true;
            finish();
            deadlines.observe(key, now() - copy.startedAt);
            const faults = abandonOthers(copy);
            if (faults.hedges === 0 && faults.abandoned === 0) return resolve(result);
            resolve({
              ...result,
              usage: {
                ...result.usage,
                calls: result.usage.calls + faults.abandoned,
                faults: addLlmFaults(result.usage.faults, faults),
              },
            });
          },
          (error: unknown) => {
            if (copy.done || settled) return;
            copy.done = true;
            finish();
            const faults = abandonOthers(copy);
            if (faults.hedges > 0) carryFaults(error, faults);
            reject(error);
          },
        );
      };

      const check = () => {
        if (settled) return;
        // Each copy gets a full deadline of its own before the next is sent.
        const deadline = deadlines.deadlineMs(key);
        if (now() - copies[copies.length - 1].startedAt >= deadline) launch();
        // With every copy sent, the copies' own timeouts end the call if none answers.
        if (copies.length >= maxCopies) return;
        // Re-check at the next threshold, and at least every second: the deadline shrinks as latencies arrive.
        const next = deadline - (now() - copies[copies.length - 1].startedAt);
        timer = setTimeout(check, Math.max(1, Math.min(next, 1_000)));
        timer.unref();
      };

      if (request.signal?.aborted) return reject(new LlmError('LLM request was aborted.', { retryable: false }));
      request.signal?.addEventListener('abort', onCallerAbort, { once: true });
      launch();
      check();
    });
  };

  return {
    kind: backend.kind,
    modelFor: (role) => backend.modelFor(role),
    ...contextCapabilityOf(backend),
    complete,
    // The wrapped backend is owned by whoever created it.
    dispose: async () => {},
  };
}

function promptTokensOf(request: CompletionRequest): number {
  let tokens = 0;
  for (const message of request.messages) tokens += estimateTokens(message.content);
  return tokens;
}
