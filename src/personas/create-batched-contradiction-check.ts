import { readFile } from 'node:fs/promises';
import type { ChatMessage, LlmBackend } from '../llm/llm-backend.ts';
import { completeStructured } from '../llm/complete-structured.ts';
import { StructuredOutputError } from '../errors.ts';
import { contradictionChecksReplySchema } from '../schemas/contradiction-check.ts';
import { renderPersona } from '../util/render-persona.ts';
import {
  createLlmContradictionCheck,
  type ContradictionCheck,
  type LlmContradictionCheckOptions,
} from './create-llm-contradiction-check.ts';

export interface BatchedContradictionCheckOptions extends LlmContradictionCheckOptions {
  /** Most checks asked in one call (config `profiles.contradiction_batch`). */
  maxBatch: number;
  /** Batch prompt template with `{{items}}`; default: `contradiction-batch-prompt.md`. */
  batchTemplate?: string;
}

/** Checks per call when `profiles.contradiction_batch` is absent (bench/RESULTS.md: ~3.5x fewer planning tokens than one per call). */
export const DEFAULT_CONTRADICTION_BATCH = 8;

const DEFAULT_BATCH_TEMPLATE_URL = new URL('./contradiction-batch-prompt.md', import.meta.url);

interface PendingCheck {
  profile: string[];
  candidate: string;
  resolve: (contradicts: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * A contradiction check that asks several (profile, candidate) checks in one call (schema name
 * `contradiction_checks`): the checks requested in the same turn of the event loop (profiles
 * built concurrently each ask one) are sent together, up to `maxBatch` per call. The
 * instructions are sent once per call instead of once per check, so a check costs its profile
 * and candidate plus a share of the instructions. A batch whose reply stays unusable after the
 * repair is asked again one check per call (`createLlmContradictionCheck`), so a bad batch reply
 * costs calls, never a wrong profile. Other errors reject every check of the batch.
 */
export function createBatchedContradictionCheck(
  backend: LlmBackend,
  options: BatchedContradictionCheckOptions,
): ContradictionCheck {
  if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) {
    throw new RangeError(`Expected \`maxBatch\` to be a positive integer, got ${options.maxBatch}.`);
  }
  const single = createLlmContradictionCheck(backend, options);
  let template: Promise<string> | undefined;
  const loadTemplate = (): Promise<string> =>
    (template ??=
      options.batchTemplate !== undefined
        ? Promise.resolve(options.batchTemplate)
        : readFile(DEFAULT_BATCH_TEMPLATE_URL, 'utf8'));
  let pending: PendingCheck[] = [];

  const askBatch = async (batch: PendingCheck[]): Promise<void> => {
    if (batch.length === 1) {
      const [check] = batch;
      await single(check.profile, check.candidate).then(check.resolve, check.reject);
      return;
    }
    try {
      const messages = buildContradictionBatchMessages(await loadTemplate(), batch);
      const { value } = await completeStructured(
        backend,
        {
          role: 'critic',
          messages,
          temperature: options.temperature,
          // Each verdict is a sentence and a boolean.
          maxOutputTokens: options.maxOutputTokens * Math.max(1, Math.ceil(batch.length / 2)),
          seed: options.seed,
        },
        contradictionChecksReplySchema(batch.length),
        'contradiction_checks',
      );
      batch.forEach((check, position) => check.resolve(value.verdicts[String(position + 1)].contradicts));
    } catch (error) {
      if (!(error instanceof StructuredOutputError)) {
        for (const check of batch) check.reject(error);
        return;
      }
      await Promise.all(batch.map((check) => single(check.profile, check.candidate).then(check.resolve, check.reject)));
    }
  };

  const flush = (): void => {
    const waiting = pending;
    pending = [];
    for (let start = 0; start < waiting.length; start += options.maxBatch) {
      void askBatch(waiting.slice(start, start + options.maxBatch));
    }
  };

  return (profile, candidate) =>
    new Promise<boolean>((resolve, reject) => {
      if (pending.length === 0) setImmediate(flush);
      pending.push({ profile, candidate, resolve, reject });
    });
}

/** The prompt of one batch: the template with `{{items}}` as numbered `<item>` blocks, one user message. */
export function buildContradictionBatchMessages(
  template: string,
  checks: ReadonlyArray<{ profile: readonly string[]; candidate: string }>,
): ChatMessage[] {
  const items = checks
    .map(
      (check, position) =>
        `<item id="${position + 1}">\n<profile>\n${renderPersona(check.profile)}\n</profile>\n<candidate>\n${check.candidate.trim()}\n</candidate>\n</item>`,
    )
    .join('\n\n');
  return [{ role: 'user', content: template.replace('{{items}}', () => items) }];
}
