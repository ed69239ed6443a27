import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarizeBatches } from '../../src/llm/batch/summarize-batches.ts';
import { emptyUsageByRole } from '../../src/schemas/usage.ts';

const models = { generator: 'gen', critic: 'gen' };
const prices = { gen: { input_per_million_usd: 1, cached_input_per_million_usd: 0.5, output_per_million_usd: 2 } };

describe('summarizeBatches', () => {
  it('counts batches, requests by stage, failures and re-attachments over every session of batches.jsonl', async () => {
    const stateFile = join(await mkdtemp(join(tmpdir(), 'pf-batch-summary-')), 'batches.jsonl');
    const at = '2026-12-04T00:00:00.000Z';
    const lines = [
      { status: 'uploaded', input_file_id: 'f1', custom_ids: ['a', 'b'], requests_by_stage: { text: 2 }, at },
      {
        batch_id: 'b1',
        status: 'submitted',
        input_file_id: 'f1',
        custom_ids: ['a', 'b'],
        requests_by_stage: { text: 2 },
        at,
      },
      { batch_id: 'b1', status: 'request_failed', failed_custom_ids: ['b'], at },
      { batch_id: 'b1', status: 'completed', at },
      {
        batch_id: 'b2',
        status: 'submitted',
        custom_ids: ['b-1', 'c'],
        requests_by_stage: { text: 1, listwise: 1 },
        at,
      },
      { batch_id: 'b2', status: 'reattached', at },
    ];
    // The last line torn by a crash is skipped.
    await writeFile(stateFile, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n{"batch_id":"b3","sta`);
    const usage = emptyUsageByRole();
    Object.assign(usage.generator, {
      prompt_tokens: 1_000_000,
      completion_tokens: 1_000_000,
      cached_prompt_tokens: 400_000,
      batch_prompt_tokens: 1_000_000,
      batch_completion_tokens: 1_000_000,
    });
    const summary = await summarizeBatches(stateFile, { prices, models, usage });
    expect(summary).toMatchObject({
      batches: 2,
      requests: 4,
      requests_by_stage: { text: 3, listwise: 1 },
      failed_requests: 1,
      reattached: 1,
    });
    // Without batch prices: 600k input at $1, 400k cached at $0.5, 1M output at $2.
    expect(summary.cost_without_batch_usd).toBeCloseTo(0.6 + 0.2 + 2, 12);
  });

  it('is all zeros for a run that has no batches.jsonl yet', async () => {
    const stateFile = join(await mkdtemp(join(tmpdir(), 'pf-batch-summary-')), 'batches.jsonl');
    const summary = await summarizeBatches(stateFile, { prices, models, usage: emptyUsageByRole() });
    expect(summary).toMatchObject({ batches: 0, requests: 0, failed_requests: 0, reattached: 0 });
  });
});
