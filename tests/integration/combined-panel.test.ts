import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
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
import { COMBINED_PANEL_LINEAGE_KEY, loadCombinedPanel } from '../../src/critique/combined-panel-file.ts';

const RANKERS = ['coherency', 'consistency', 'depth', 'diversity', 'likability'];

function between(text: string, open: string, close: string): string {
  const start = text.lastIndexOf(open);
  const end = text.indexOf(close, start + open.length);
  return start === -1 || end === -1 ? '' : text.slice(start + open.length, end);
}
const utterances = (conversation: string) =>
  conversation.split('\n').filter((line) => /^\s*User [12]:/.test(line)).length;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The fixture's per-expert rule, applied to every dimension: more utterances wins, ties by an order-free hash. */
function combinedPanelReply(body: {
  messages: Array<{ content: string }>;
  response_format?: { json_schema?: { schema?: { properties?: object } } };
}) {
  const prompt = body.messages.map((message) => message.content).join('\n');
  const first = between(prompt, '<conversation id="A">', '</conversation>');
  const second = between(prompt, '<conversation id="B">', '</conversation>');
  const [countA, countB] = [utterances(first), utterances(second)];
  const winner =
    countA !== countB ? (countA > countB ? 'A' : 'B') : sha256(first.trim()) <= sha256(second.trim()) ? 'A' : 'B';
  const dimensions = Object.keys(body.response_format?.json_schema?.schema?.properties ?? {});
  return Object.fromEntries(dimensions.map((name) => [name, { rationale: `fixture panel: ${name}`, winner }]));
}

const readLines = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

describe('critique.panel: combined, over the HTTP fixture', () => {
  let fixture: FixtureServer;
  let out: string;
  beforeAll(async () => {
    fixture = await startFixtureServer({ structuredResponders: { panel_combined: combinedPanelReply } });
    out = await mkdtemp(join(tmpdir(), 'pf-panel-'));
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
        Object.entries(fixture.stats.byKind).map(([kind, count]) => [kind, count - (before[kind] ?? 0)]),
      );
      return {
        result,
        calls,
        rows: (await readLines(join(result.runDir, 'conversations.jsonl'))).map((row) => DatasetRowSchema.parse(row)),
      };
    } finally {
      await backend.dispose();
    }
  }

  it('asks 2 calls per candidate pair instead of 10, writes valid rows, and picks the same winners', async () => {
    const flags = {
      out,
      iterations: 1,
      pairs: 3,
      candidates: 3,
      seed: 5,
      llm: { base_url: fixture.baseUrl, model: 'm' },
      profiles: { contradiction_check: false },
    };
    // The paper's per-expert round robin is one flag away from the default (listwise) selection.
    const perExpert = await run(
      await loadRunConfig({
        flags: { ...flagsToConfig({ selection: 'round-robin', logLevel: 'info' }), ...flags, run_id: 'per-expert' },
      }),
    );
    // The mode comes from a config file, as a user would set it.
    const configFile = join(out, 'combined.yaml');
    await writeFile(configFile, 'critique:\n  panel: combined\n');
    const combinedConfig = await loadRunConfig({ configFile, flags: { ...flags, run_id: 'combined' } });
    expect(combinedConfig.critique.panel).toBe('combined');
    const combined = await run(combinedConfig);

    const pairs = 3;
    const candidatePairs = 3; // C(3, 2): every candidate passes the fixture's filters
    expect(perExpert.calls).toMatchObject(
      Object.fromEntries(RANKERS.map((name) => [`pairwise_${name}`, pairs * candidatePairs * 2])),
    );
    expect(perExpert.calls.panel_combined ?? 0).toBe(0);
    expect(combined.calls.panel_combined).toBe(pairs * candidatePairs * 2);
    expect(
      Object.keys(combined.calls).filter((kind) => kind.startsWith('pairwise_') && combined.calls[kind] > 0),
    ).toEqual([]);
    const criticCalls = (run: { result: { manifest: { totals: { usage: { critic: { calls: number } } } } } }) =>
      run.result.manifest.totals.usage.critic.calls;
    expect(criticCalls(perExpert) / pairs).toBe(3 * 2 + candidatePairs * 5 * 2);
    expect(criticCalls(combined) / pairs).toBe(3 * 2 + candidatePairs * 2);

    expect(combined.rows).toHaveLength(pairs);
    const panel = await loadCombinedPanel();
    for (const row of combined.rows) {
      expect(row.lineage.critic_hashes[COMBINED_PANEL_LINEAGE_KEY]).toBe(panel.promptHash);
      expect(Object.keys(row.scores).sort()).toEqual([...RANKERS, 'copeland', 'faithfulness', 'toxicity'].sort());
    }
    expect(perExpert.rows.every((row) => !(COMBINED_PANEL_LINEAGE_KEY in row.lineage.critic_hashes))).toBe(true);
    const manifest = JSON.parse(await readFile(join(combined.result.runDir, 'manifest.json'), 'utf8'));
    expect(JSON.stringify(manifest)).toContain(panel.promptHash);

    const winners = (rows: typeof perExpert.rows) =>
      Object.fromEntries(rows.map((row) => [row.pair_id, [row.lineage.candidate_index, row.scores]]));
    expect(winners(combined.rows)).toEqual(winners(perExpert.rows));

    const candidates = (await readLines(join(combined.result.runDir, 'candidates.jsonl'))).map((line) =>
      CandidateRecordSchema.parse(line),
    );
    for (const record of candidates) {
      expect(record.pairwise.map((verdict) => verdict.critic)).toEqual([...RANKERS, ...RANKERS]);
      expect(record.pairwise.every((verdict) => verdict.rationale.includes('fixture panel'))).toBe(true);
    }
  });

  it('is reachable from the run command flags; without --selection the panel key alone keeps round robin', async () => {
    expect(flagsToConfig({ panel: 'combined', logLevel: 'info' }).critique?.panel).toBe('combined');
    const defaults = await loadRunConfig({ flags: flagsToConfig({ logLevel: 'info' }) });
    expect(defaults.critique.panel).toBeUndefined();
    await expect(loadRunConfig({ flags: { critique: { panel: 'all-at-once' as never } } })).rejects.toThrow(
      /critique\.panel/,
    );
  });
});
