import type { LlmBackend } from '../llm/llm-backend.ts';
import { completeStructured } from '../llm/complete-structured.ts';
import { ContextOverflowError, StructuredOutputError } from '../errors.ts';
import { contradictionChecksReplySchema } from '../schemas/contradiction-check.ts';
import {
  createLlmContradictionCheck,
  type ContradictionCheck,
  type LlmContradictionCheckOptions,
} from './create-llm-contradiction-check.ts';
import { loadContradictionTemplates } from './load-contradiction-templates.ts';
import {
  contradictionCheckRequest,
  fitContradictionBatches,
  type ContradictionCheckPrompts,
  type FittedContradictionBatches,
} from './fit-contradiction-batches.ts';

export { buildContradictionBatchMessages } from './build-contradiction-batch-messages.ts';

export interface BatchedContradictionCheckOptions extends LlmContradictionCheckOptions {
  /** Most checks asked in one call (config `profiles.contradiction_batch`); 1 = one check per call. */
  maxBatch: number;
  /** Batch prompt template with `{{items}}`; default: `contradiction-batch-prompt.md`. */
  batchTemplate?: string;
  /**
   * Called when a check cannot be asked within the backend's context: its one-check call alone
   * does not fit (`contextTokens`), or the model reported an overflow (e.g. on a repair call). The
   * candidate is then rejected, as a contradiction would be, so planning goes on. Count it here.
   */
  onOverContext?: (error: ContextOverflowError) => void;
}

/** Checks per call when `profiles.contradiction_batch` is absent (bench/RESULTS.md: ~3.5x fewer planning tokens than one per call). */
export const DEFAULT_CONTRADICTION_BATCH = 8;

interface PendingCheck {
  profile: string[];
  candidate: string;
  resolve: (contradicts: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * A contradiction check that asks several (profile, candidate) checks in one call (schema name
 * `contradiction_checks`): the checks requested in the same turn of the event loop (profiles
 * built concurrently each ask one) are sent together, up to `maxBatch` per call and, when the
 * backend publishes `contextTokens`, only as many as fit it with their reply room
 * (`fitContradictionBatches`), down to one check per call. The instructions are sent once per
 * call instead of once per check, so a check costs its profile and candidate plus a share of the
 * instructions. A batch whose reply stays unusable after the repair, or that overflows the
 * context, is asked again one check per call (`createLlmContradictionCheck`), so a bad batch reply
 * costs calls, never a wrong profile. A check that cannot fit the context even alone rejects its
 * candidate (reported to `onOverContext`), never the run. Other errors reject every check of the call.
 */
export function createBatchedContradictionCheck(
  backend: LlmBackend,
  options: BatchedContradictionCheckOptions,
): ContradictionCheck {
  if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) {
    throw new RangeError(`Expected \`maxBatch\` to be a positive integer, got ${options.maxBatch}.`);
  }
  const single = createLlmContradictionCheck(backend, options);
  let prompts: Promise<ContradictionCheckPrompts> | undefined;
  const loadPrompts = (): Promise<ContradictionCheckPrompts> =>
    (prompts ??= loadContradictionTemplates(options).then((templates) => ({
      ...templates,
      maxOutputTokens: options.maxOutputTokens,
    })));
  let pending: PendingCheck[] = [];

  const rejectOverContext = (check: PendingCheck, error: ContextOverflowError): void => {
    options.onOverContext?.(error);
    check.resolve(true);
  };

  const askOne = (check: PendingCheck): Promise<void> =>
    single(check.profile, check.candidate).then(check.resolve, (error: unknown) =>
      error instanceof ContextOverflowError ? rejectOverContext(check, error) : check.reject(error),
    );

  const askBatch = async (batch: PendingCheck[], loaded: ContradictionCheckPrompts): Promise<void> => {
    if (batch.length === 1) return askOne(batch[0]);
    try {
      const { messages, maxOutputTokens } = contradictionCheckRequest(loaded, batch);
      const { value } = await completeStructured(
        backend,
        { role: 'critic', messages, temperature: options.temperature, maxOutputTokens, seed: options.seed },
        contradictionChecksReplySchema(batch.length),
        'contradiction_checks',
      );
      batch.forEach((check, position) => check.resolve(value.verdicts[String(position + 1)].contradicts));
    } catch (error) {
      if (!(error instanceof StructuredOutputError || error instanceof ContextOverflowError)) {
        for (const check of batch) check.reject(error);
        return;
      }
      await Promise.all(batch.map(askOne));
    }
  };

  const flush = async (): Promise<void> => {
    const waiting = pending;
    pending = [];
    let fitted: FittedContradictionBatches<PendingCheck>;
    let loaded: ContradictionCheckPrompts;
    try {
      loaded = await loadPrompts();
      fitted = fitContradictionBatches(waiting, loaded, backend, options.maxBatch);
    } catch (error) {
      for (const check of waiting) check.reject(error);
      return;
    }
    for (const { check, size } of fitted.overContext) {
      const contextTokens = backend.contextTokens ?? 0;
      const promptTokens = size.promptTokens ?? 0;
      rejectOverContext(
        check,
        new ContextOverflowError(
          `The contradiction check has ${promptTokens} prompt tokens + ${size.maxOutputTokens} reply tokens, more than the model's context of ${contextTokens} tokens.`,
          contextTokens,
          promptTokens,
        ),
      );
    }
    for (const batch of fitted.batches) void askBatch(batch, loaded);
  };

  return (profile, candidate) =>
    new Promise<boolean>((resolve, reject) => {
      if (pending.length === 0) setImmediate(() => void flush());
      pending.push({ profile, candidate, resolve, reject });
    });
}
