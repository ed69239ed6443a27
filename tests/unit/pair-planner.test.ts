import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PairPlanner } from '../../src/pipeline/pair-planner.ts';
import { RunConfigSchema } from '../../src/schemas/run-config.ts';
import type { LlmBackend } from '../../src/llm/llm-backend.ts';

let directory: string;
beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'pf-planner-'));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Planning without contradiction checks sends no request: any call fails the test. */
const backend: LlmBackend = {
  kind: 'test',
  modelFor: () => 'model',
  complete: async () => {
    throw new Error('planning called the backend');
  },
  dispose: async () => {},
};

async function openPlanner(
  dir: string,
  events: Array<{ event: string; fields: Record<string, unknown> }>,
  overrides: Record<string, unknown> = {},
) {
  const config = RunConfigSchema.parse({
    out: dir,
    run_id: 'plan',
    pairs: 2_500,
    iterations: 2,
    seed: 5,
    profiles: { contradiction_check: false },
    ...overrides,
  });
  return PairPlanner.open({ plan: join(dir, 'plan.jsonl'), manifest: join(dir, 'manifest.json') }, config, {
    backend,
    models: { generator: 'model', critic: 'model' },
    emit: (event, fields) => events.push({ event, fields }),
  });
}

const planLines = (dir: string) => readFileSync(join(dir, 'plan.jsonl'), 'utf8').trim().split('\n');

describe('PairPlanner', () => {
  it('plans a large run in chunks appended as they are planned, and a resume plans only the missing chunks', async () => {
    const fullDir = join(directory, 'full');
    const events: Array<{ event: string; fields: Record<string, unknown> }> = [];
    const planner = await openPlanner(fullDir, events);
    await planner.close();
    expect(planner.size).toBe(5_000);
    expect([planner.countOf(1), planner.countOf(2)]).toEqual([2_500, 2_500]);
    expect(events.filter((entry) => entry.event === 'pairs planned').map((entry) => entry.fields.pairs)).toEqual([
      2_000, 2_000, 1_000,
    ]);
    const lines = planLines(fullDir);
    expect(new Set(lines.map((line) => (JSON.parse(line) as { pair: { id: string } }).pair.id)).size).toBe(5_000);
    let streamed = 0;
    for await (const item of planner.pairsOf(2)) if (item.iteration === 2) streamed++;
    expect(streamed).toBe(2_500);

    // Planning stopped after the first chunk: the resume plans the other two, the same as before.
    const resumedDir = join(directory, 'resumed');
    mkdirSync(resumedDir, { recursive: true });
    writeFileSync(join(resumedDir, 'plan.jsonl'), `${lines.slice(0, 2_000).join('\n')}\n`);
    const resumedEvents: Array<{ event: string; fields: Record<string, unknown> }> = [];
    const resumed = await openPlanner(resumedDir, resumedEvents);
    await resumed.close();
    expect(resumedEvents.filter((entry) => entry.event === 'pairs planned').map((entry) => entry.fields.pairs)).toEqual(
      [2_000, 1_000],
    );
    expect(planLines(resumedDir)).toEqual(lines);
  });

  it('plans synthesize mode in chunks too: each chunk builds and pairs its own pool, every id stays unique', async () => {
    const dir = join(directory, 'synthesize');
    const events: Array<{ event: string; fields: Record<string, unknown> }> = [];
    const planner = await openPlanner(dir, events, { iterations: 1, personas: { mode: 'synthesize' } });
    await planner.close();
    expect(events.filter((entry) => entry.event === 'pairs planned').map((entry) => entry.fields.pairs)).toEqual([
      2_000, 500,
    ]);
    const pairs = planLines(dir).map(
      (line) => (JSON.parse(line) as { pair: { id: string; user1: { id: string }; user2: { id: string } } }).pair,
    );
    expect(pairs).toHaveLength(2_500);
    expect(new Set(pairs.map((pair) => pair.id)).size).toBe(2_500);
    // Profiles of different chunks never share an id (the second chunk's are prefixed).
    const profileChunks = new Map<string, Set<boolean>>();
    for (const [index, pair] of pairs.entries()) {
      for (const user of [pair.user1, pair.user2]) {
        profileChunks.set(user.id, (profileChunks.get(user.id) ?? new Set()).add(index < 2_000));
      }
    }
    expect([...profileChunks.values()].every((chunks) => chunks.size === 1)).toBe(true);
  });

  it('reports planning progress as profiles finish: pairs planned of the batch, with an ETA once some are', async () => {
    const dir = join(directory, 'progress');
    const events: Array<{ event: string; fields: Record<string, unknown> }> = [];
    // Answers every batched contradiction check with "no contradiction".
    const checker: LlmBackend = {
      kind: 'test',
      modelFor: () => 'model',
      complete: async (request) => {
        const ids = Object.keys(
          (request.jsonSchema?.schema as { properties: { verdicts: { properties: object } } }).properties.verdicts
            .properties,
        );
        const verdicts = Object.fromEntries(ids.map((id) => [id, { rationale: 'fine', contradicts: false }]));
        return {
          texts: [JSON.stringify({ verdicts })],
          model: 'model',
          usage: { promptTokens: 10, completionTokens: 5, calls: 1 },
        };
      },
      dispose: async () => {},
    };
    const config = RunConfigSchema.parse({ out: dir, run_id: 'plan', pairs: 40, iterations: 1, seed: 5 });
    const planner = await PairPlanner.open(
      { plan: join(dir, 'plan.jsonl'), manifest: join(dir, 'manifest.json') },
      config,
      {
        backend: checker,
        models: { generator: 'model', critic: 'model' },
        emit: (event, fields) => events.push({ event, fields }),
        progressIntervalMs: 0,
      },
    );
    await planner.close();
    const progress = events.filter((entry) => entry.event === 'planning progress').map((entry) => entry.fields);
    expect(progress.length).toBeGreaterThan(2);
    const planned = progress.map((fields) => fields.pairs_planned as number);
    expect(progress.every((fields) => fields.pairs_total === 40)).toBe(true);
    // Never backwards, never past the batch; the first checks come before any profile is finished.
    expect(planned).toEqual([...planned].sort((left, right) => left - right));
    expect(planned[0]).toBe(0);
    expect(planned.at(-1)).toBeGreaterThan(0);
    expect(planned.at(-1)).toBeLessThanOrEqual(40);
    expect(progress[0].eta_s).toBeNull();
    expect(typeof progress.at(-1)!.eta_s).toBe('number');
  });
});
