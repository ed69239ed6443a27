import type { LlmBackend } from '../llm/llm-backend.ts';
import type { PairJob } from '../schemas/pair-job.ts';
import type { PairOutcome } from '../schemas/pair-outcome.ts';
import type { PairJobContext } from '../schemas/run-context.ts';
import { runPairJob } from './run-pair-job.ts';

/** Runs the pair jobs of one run: its context and its LLM stack, bound once. */
export interface PairJobRunner {
  /** What every job of the run needs besides the LLM (what BullMQ workers receive through Redis). */
  readonly context: PairJobContext;
  runJob(job: PairJob): Promise<PairOutcome>;
}

/**
 * The one pair-job runner: the coordinator builds it for the in-process executor, and a BullMQ
 * worker builds it from the context the coordinator stored, around the worker's own LLM stack.
 * `backend` is a stack from `buildLlmStack`.
 */
export function createPairJobRunner(context: PairJobContext, backend: LlmBackend, now?: () => Date): PairJobRunner {
  if (context.config.critique.panel === 'combined' && !context.panel) {
    throw new Error('the run context has no combined panel prompt, but `critique.panel` is `combined`');
  }
  const deps = { ...context, backend, now };
  return { context, runJob: (job) => runPairJob(job, deps) };
}
