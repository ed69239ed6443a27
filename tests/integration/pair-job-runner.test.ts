/**
 * The one pair-job runner, over the HTTP fixture: everything a job needs comes in its context
 * (what the coordinator stores in Redis for workers); nothing is read from disk while it runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { createPairJobRunner } from '../../src/pipeline/pair-job-runner.ts';
import { buildLlmStack } from '../../src/llm/build-llm-stack.ts';
import { OpenAiCompatibleBackend } from '../../src/llm/openai/openai-compatible-backend.ts';
import { loadCritics } from '../../src/critique/load-critics.ts';
import { COMBINED_PANEL_LINEAGE_KEY, loadCombinedPanel } from '../../src/critique/combined-panel-file.ts';
import { loadPromptTemplate } from '../../src/generation/load-prompt-template.ts';
import { loadSeedConversations } from '../../src/personas/load-seed-conversations.ts';
import { defaultSeedPaths } from '../../src/personas/load-seed-attributes.ts';
import { RunConfigSchema } from '../../src/schemas/run-config.ts';
import { PairJobContextSchema, type PairJobContext } from '../../src/schemas/run-context.ts';
import type { PairJob } from '../../src/schemas/pair-job.ts';

/** Every dimension of the combined panel goes to conversation A. */
function panelReply(body: { response_format?: { json_schema?: { schema?: { properties?: object } } } }) {
  const dimensions = Object.keys(body.response_format?.json_schema?.schema?.properties ?? {});
  return Object.fromEntries(dimensions.map((name) => [name, { rationale: 'fixture', winner: 'A' }]));
}

describe('createPairJobRunner', () => {
  let fixture: FixtureServer;
  let backend: OpenAiCompatibleBackend;
  let context: PairJobContext;
  let job: PairJob;
  const MARKER = 'Context-only panel prompt 7f3a.';

  beforeAll(async () => {
    fixture = await startFixtureServer({ structuredResponders: { panel_combined: panelReply } });
    backend = new OpenAiCompatibleBackend({ baseUrl: fixture.baseUrl, generatorModel: 'gen', criticModel: 'critic' });
    const config = RunConfigSchema.parse({
      candidates: 2,
      critique: { panel: 'combined' },
      llm: { provider: 'openai', base_url: fixture.baseUrl },
    });
    const builtIn = await loadCombinedPanel();
    context = {
      config,
      critics: (await loadCritics()).filter((critic) => critic.enabled),
      template: await loadPromptTemplate(),
      // A panel that exists only in the context: a runner reading the package's file would not send it.
      panel: { ...builtIn, prompt: `${builtIn.prompt}\n${MARKER}`, promptHash: 'context-panel' },
    };
    const seeds = await loadSeedConversations(defaultSeedPaths().conversations);
    job = {
      run_id: 'runner',
      iteration: 1,
      pool_version: 0,
      few_shot: seeds.slice(0, 2),
      pair: {
        id: 'pair-1',
        user1: { id: 'a', attributes: ['I love dogs.', 'I have two cats.'] },
        user2: { id: 'b', attributes: ['I am a chef.', 'I live by the sea.'] },
      },
    };
  });

  afterAll(async () => {
    await backend?.dispose();
    await fixture?.close();
  });

  it('judges with the panel prompt of its context, which survives the trip through Redis as JSON', async () => {
    // What a worker gets: the context as stored and parsed back.
    const stored = PairJobContextSchema.parse(JSON.parse(JSON.stringify(context)));
    const runner = createPairJobRunner(stored, buildLlmStack({ adapter: backend, maxInFlight: 4 }));
    const before = fixture.requests.length;
    const outcome = await runner.runJob(job);

    const panelRequests = fixture.requests.slice(before).filter((request) => request.kind === 'panel_combined');
    expect(panelRequests.length).toBeGreaterThan(0);
    for (const request of panelRequests) {
      expect(JSON.stringify(request.body.messages)).toContain(MARKER);
    }
    expect(outcome.status).toBe('accepted');
    expect(outcome.row?.lineage.critic_hashes[COMBINED_PANEL_LINEAGE_KEY]).toBe('context-panel');
  });

  it('refuses a context for critique.panel: combined that carries no panel', () => {
    const { panel: _panel, ...withoutPanel } = context;
    expect(() => createPairJobRunner(withoutPanel, buildLlmStack({ adapter: backend, maxInFlight: 1 }))).toThrow(
      /no combined panel prompt/,
    );
  });
});
