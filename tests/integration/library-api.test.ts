import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import {
  loadRunConfig,
  OpenAiCompatibleBackend,
  runPipeline,
  updatePool,
  DatasetRowSchema,
  PoolRecordSchema,
  type RunProgress,
} from '../../src/index.ts';

describe('library API: runPipeline(config, deps)', () => {
  let fixture: FixtureServer;
  beforeAll(async () => {
    fixture = await startFixtureServer();
  });
  afterAll(async () => fixture?.close());

  it('runs the loop in process, reports progress, and returns the manifest', async () => {
    const out = await mkdtemp(join(tmpdir(), 'pf-lib-'));
    const config = await loadRunConfig({
      flags: {
        out,
        run_id: 'lib',
        iterations: 1,
        pairs: 3,
        candidates: 2,
        llm: { base_url: fixture.baseUrl, model: 'm' },
      },
    });
    const backend = new OpenAiCompatibleBackend({
      baseUrl: fixture.baseUrl,
      generatorModel: 'gen-model',
      criticModel: 'critic-model',
    });
    const progress: RunProgress[] = [];
    const result = await runPipeline(config, { backend, onProgress: (item) => progress.push(item) });
    expect(result.runDir).toBe(join(out, 'lib'));
    expect(result.manifest.totals.pairs).toBe(3);
    expect(progress.map((item) => item.done)).toEqual([1, 2, 3]);
    expect(progress.at(-1)!.etaMs).toBe(0);
    const rows = (await readFile(join(out, 'lib', 'conversations.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => DatasetRowSchema.parse(JSON.parse(line)));
    expect(rows.length).toBe(result.manifest.totals.accepted);
    expect(
      rows.every((row) => row.lineage.generator_model === 'gen-model' && row.lineage.critic_model === 'critic-model'),
    ).toBe(true);
  });

  it('reports progress one pair at a time when 12 pairs in flight finish together and share writes', async () => {
    const out = await mkdtemp(join(tmpdir(), 'pf-lib-wide-'));
    const config = await loadRunConfig({
      flags: {
        out,
        run_id: 'wide',
        iterations: 1,
        pairs: 12,
        candidates: 2,
        concurrency: 12,
        llm: { base_url: fixture.baseUrl, model: 'm' },
      },
    });
    const backend = new OpenAiCompatibleBackend({ baseUrl: fixture.baseUrl, generatorModel: 'g', criticModel: 'c' });
    const progress: RunProgress[] = [];
    const result = await runPipeline(config, { backend, onProgress: (item) => progress.push(item) });
    expect(progress.map((item) => item.done)).toEqual(Array.from({ length: 12 }, (_, index) => index + 1));
    expect(result.manifest.totals.pairs).toBe(12);
    const outcomes = (await readFile(join(out, 'wide', 'outcomes.jsonl'), 'utf8')).split('\n').filter(Boolean);
    expect(outcomes).toHaveLength(12);
  });

  it('caps the pool from the best winners only, exactly as updatePool over every winner would', async () => {
    const out = await mkdtemp(join(tmpdir(), 'pf-pool-cap-'));
    const config = await loadRunConfig({
      flags: {
        out,
        run_id: 'cap',
        iterations: 1,
        pairs: 6,
        candidates: 3,
        pool: { cap: 4 },
        llm: { base_url: fixture.baseUrl },
      },
    });
    const backend = new OpenAiCompatibleBackend({ baseUrl: fixture.baseUrl, generatorModel: 'g', criticModel: 'c' });
    await runPipeline(config, { backend });
    const lines = async (name: string) =>
      (await readFile(join(out, 'cap', name), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    const rows = (await lines('conversations.jsonl')).map((row) => DatasetRowSchema.parse(row));
    expect(rows.length).toBeGreaterThan(4);
    const winners = rows.map((row) =>
      PoolRecordSchema.parse({
        id: row.id,
        user1_persona: row.user1_persona,
        user2_persona: row.user2_persona,
        turns: row.turns,
        source: 'generated',
        iteration: 1,
        score: row.scores.copeland ?? 0,
      }),
    );
    const seeds = (await lines('pool-v0.jsonl')).map((record) => PoolRecordSchema.parse(record));
    const pool1 = (await lines('pool-v1.jsonl')).map((record) => PoolRecordSchema.parse(record));
    expect(pool1.map((record) => record.id)).toEqual(updatePool(seeds, winners, 4).map((record) => record.id));
  });

  it('applies precedence flags > env > file > defaults', async () => {
    const { writeFile } = await import('node:fs/promises');
    const directory = await mkdtemp(join(tmpdir(), 'pf-precedence-'));
    const file = join(directory, 'config.yaml');
    await writeFile(file, 'pairs: 5\niterations: 7\nllm:\n  base_url: http://file.example/v1\n  model: from-file\n');
    const config = await loadRunConfig({
      configFile: file,
      env: { OPENAI_BASE_URL: 'http://env.example/v1', OPENAI_API_KEY: 'sk-env' },
      flags: { pairs: 2, llm: { model: undefined } },
    });
    expect(config.pairs).toBe(2); // flag
    expect(config.iterations).toBe(7); // file
    expect(config.llm.base_url).toBe('http://env.example/v1'); // env over file
    expect(config.llm.model).toBe('from-file'); // undefined flag does not erase
    expect(config.candidates).toBe(4); // default
  });
});
