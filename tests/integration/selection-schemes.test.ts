import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import {
  loadRunConfig,
  OpenAiCompatibleBackend,
  runPipeline,
  DatasetRowSchema,
  CandidateRecordSchema,
  type RunConfig,
} from '../../src/index.ts';
import { flagsToConfig } from '../../src/cli/run-options.ts';
import { loadListwisePanel, LISTWISE_PANEL_LINEAGE_KEY } from '../../src/critique/listwise-panel-prompt.ts';
import { loadFilterPanel, FILTER_PANEL_LINEAGE_KEY } from '../../src/critique/filter-panel-prompt.ts';

const readLines = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

describe('selection schemes over the HTTP fixture', () => {
  let fixture: FixtureServer;
  let out: string;
  beforeAll(async () => {
    // The second sample of every generator call contradicts its profile (`zzcontradictzz`).
    fixture = await startFixtureServer({
      candidateScript: (info) => (info.sampleIndex === 1 ? 'contradicting' : 'normal'),
    });
    out = await mkdtemp(join(tmpdir(), 'pf-selection-'));
  });
  afterAll(async () => fixture?.close());

  async function run(config: RunConfig) {
    const backend = new OpenAiCompatibleBackend({
      baseUrl: fixture.baseUrl,
      generatorModel: 'gen',
      criticModel: 'critic',
    });
    const before = { ...fixture.stats.byKind };
    try {
      const result = await runPipeline(config, { backend });
      const calls = Object.fromEntries(
        Object.entries(fixture.stats.byKind)
          .map(([kind, count]) => [kind, count - (before[kind] ?? 0)] as const)
          .filter(([, count]) => count > 0),
      );
      return {
        calls,
        manifest: result.manifest,
        rows: (await readLines(join(result.runDir, 'conversations.jsonl'))).map((row) => DatasetRowSchema.parse(row)),
        candidates: (await readLines(join(result.runDir, 'candidates.jsonl'))).map((record) =>
          CandidateRecordSchema.parse(record),
        ),
      };
    } finally {
      await backend.dispose();
    }
  }

  const base = (runId: string, selection?: 'round-robin') =>
    loadRunConfig({
      flags: {
        ...flagsToConfig({ selection, logLevel: 'info' }),
        out,
        run_id: runId,
        iterations: 1,
        pairs: 3,
        candidates: 3,
        seed: 5,
        llm: { base_url: 'http://127.0.0.1:1/v1', model: 'm' },
        profiles: { contradiction_check: false },
      },
    }).then((config) => ({ ...config, llm: { ...config.llm, base_url: fixture.baseUrl } }));

  it('by default asks listwise calls and nothing else, filters with the folded checks, and records the scheme', async () => {
    const listwise = await run(await base('listwise'));
    // 3 pairs: one generator call and two listwise calls each; no filter or pairwise calls. The
    // fixture scores the contradicting sample highest, so its flag could cost the winner and the
    // other order is asked to confirm it (second order when uncertain).
    expect(listwise.calls).toEqual({ generator: 3, listwise_listwise: 6 });
    expect(listwise.rows).toHaveLength(3);
    const panel = await loadListwisePanel();
    for (const row of listwise.rows) {
      expect(row.lineage.selection).toBe('listwise; second order when-uncertain; filters folded');
      expect(row.lineage.critic_hashes[LISTWISE_PANEL_LINEAGE_KEY]).toBe(panel.promptHash);
      expect(row.lineage.candidate_index).not.toBe(1);
    }
    expect(listwise.manifest.versions.critic_hashes[LISTWISE_PANEL_LINEAGE_KEY]).toBe(panel.promptHash);
    const contradicting = listwise.candidates.filter((record) => record.candidate_index === 1);
    expect(contradicting.map((record) => record.filtered_by)).toEqual(['faithfulness', 'faithfulness', 'faithfulness']);
    for (const record of contradicting) {
      expect(record.filters.find((verdict) => verdict.critic === 'faithfulness')!.rationale).toMatch(
        /^listwise panel check, flagged in 2 of 2 usable order\(s\)/,
      );
    }

    // The paper panel is one flag away and, on the fixture's deterministic rule, picks the same winners.
    const paper = await run(await base('paper', 'round-robin'));
    expect(paper.calls.listwise_listwise).toBeUndefined();
    expect(paper.calls.pairwise_depth).toBe(3 * 1 * 2); // one surviving candidate pair per pair, both orders
    expect(paper.rows.map((row) => row.lineage.selection)).toEqual(
      Array(3).fill('round-robin; panel per-expert; second order always; filters separate'),
    );
    const winners = (rows: typeof paper.rows) =>
      Object.fromEntries(rows.map((row) => [row.pair_id, row.lineage.candidate_index]));
    expect(winners(paper.rows)).toEqual(winners(listwise.rows));
  });

  it('asks a single listwise order per pair when the first answer is clear (no flag, a clear leader)', async () => {
    const clean = await startFixtureServer();
    const backend = new OpenAiCompatibleBackend({
      baseUrl: clean.baseUrl,
      generatorModel: 'gen',
      criticModel: 'critic',
    });
    try {
      const config = await base('listwise-clear');
      const result = await runPipeline({ ...config, llm: { ...config.llm, base_url: clean.baseUrl } }, { backend });
      // The fixture's scores 10, 9, 8 are a full point apart: the other order could not change the winner.
      expect(clean.stats.byKind).toEqual({ generator: 3, listwise_listwise: 3 });
      expect(result.manifest.totals.accepted).toBe(3);
    } finally {
      await backend.dispose();
      await clean.close();
    }
  });

  it('--filters combined asks one filter panel call per candidate, composes with round robin, and records it', async () => {
    const config = await base('filters-combined', 'round-robin');
    const result = await run({ ...config, critique: { ...config.critique, panel: 'combined', filters: 'combined' } });
    // 3 pairs x 3 candidates: one filter panel call each (no per-critic calls); the contradicting
    // sample is filtered, so one candidate pair per pair is compared in both orders.
    expect(result.calls).toEqual({ generator: 3, filter_panel_filters: 9, panel_combined: 6 });
    const panel = await loadFilterPanel();
    for (const row of result.rows) {
      expect(row.lineage.selection).toBe('round-robin; panel combined; second order always; filters combined');
      expect(row.lineage.critic_hashes[FILTER_PANEL_LINEAGE_KEY]).toBe(panel.promptHash);
      expect(row.lineage.candidate_index).not.toBe(1);
    }
    expect(result.manifest.versions.critic_hashes[FILTER_PANEL_LINEAGE_KEY]).toBe(panel.promptHash);
    const contradicting = result.candidates.filter((record) => record.candidate_index === 1);
    expect(contradicting.map((record) => record.filtered_by)).toEqual(['faithfulness', 'faithfulness', 'faithfulness']);
    expect(contradicting[0].filters.filter((verdict) => verdict.source === 'llm')).toMatchObject([
      { critic: 'faithfulness', passed: false, confidence: 0.9 },
      { critic: 'toxicity', passed: true, confidence: 0.9 },
    ]);
  });
});
