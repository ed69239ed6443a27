import { LlmError } from '../errors.ts';
import { addLlmFaults, emptyLlmFaults, type LlmFaults } from '../schemas/llm-faults.ts';
import type { CompletionRequest, CompletionResult, LlmBackend } from './llm-backend.ts';
import { estimateTokens } from './estimate-tokens.ts';
import { LatencyDeadlines, type LatencyDeadlineOptions } from './latency-deadlines.ts';
import { contextCapabilityOf } from './with-context-length.ts';
import { carryFaults } from './carried-faults.ts';

/** Options of `hedgeBackend`: how the deadline is learned (see `LatencyDeadlines`). */
export interface HedgeOptions extends LatencyDeadlineOptions {
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
 * (`LatencyDeadlines`: 2 × p95, at least 1 s, at most the request timeout). A request still
 * unanswered at its deadline is hedged: a second copy is sent and the first answer wins (the other
 * copy is aborted). If neither has answered when the hedge too has run a full deadline, both are
 * abandoned and the call fails with a retryable `LlmError` (fault `hang`), which the retry policy
 * sends again at once.
 * A copy that fails ends the call with its error (the other copy is aborted).
 *
 * `result.usage.faults` reports the hedges sent, the copies abandoned and their estimated prompt
 * tokens; `usage.calls` includes the abandoned copies (they were sent). Put it right around the
 * adapter, inside the concurrency limit, so latencies are the endpoint's, not the queue's; a hedge
 * copy is the one request allowed beyond the limit.
 */
export function hedgeBackend(backend: LlmBackend, options: HedgeOptions): LlmBackend {
  const deadlines = new LatencyDeadlines(options);
  const now = options.now ?? (() => performance.now());

  const complete = (request: CompletionRequest): Promise<CompletionResult> => {
    const key = `${request.role}:${backend.modelFor(request.role)}`;
    const started = now();
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
        const signal = request.signal ? AbortSignal.any([request.signal, copy.controller.signal]) : copy.controller.signal;
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
              usage: { ...result.usage, calls: result.usage.calls + faults.abandoned, faults: addLlmFaults(result.usage.faults, faults) },
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
        const elapsed = now() - started;
        // The hedge gets a full deadline of its own (the deadline may have shrunk since it was sent).
        const hedgeElapsed = copies.length > 1 ? now() - copies[copies.length - 1].startedAt : 0;
        const deadline = deadlines.deadlineMs(key);
        if (copies.length === 1 && elapsed >= deadline) launch();
        else if (copies.length > 1 && hedgeElapsed >= deadline) {
          finish();
          const faults = abandonOthers(undefined);
          const error = new LlmError(
            `LLM request (${key}) had no reply after ${Math.round(elapsed)} ms, nor its hedge after its learned deadline of ${Math.round(deadline)} ms; given up.`,
            { retryable: true, fault: 'hang' },
          );
          carryFaults(error, faults);
          reject(error);
          return;
        }
        // Re-check at the next threshold, and at least every second: the deadline shrinks as latencies arrive.
        const next = copies.length === 1 ? deadline - elapsed : deadline - (now() - copies[copies.length - 1].startedAt);
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
