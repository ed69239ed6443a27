import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { runCli } from '../fixtures/run-cli.ts';
import { ManifestSchema } from '../../src/schemas/manifest.ts';

// The endpoint defaults (5 few-shot examples, 1,200-token generator replies) against an endpoint
// whose GET /models entry publishes the model's context length, as vLLM does (`max_model_len`).
describe('persona-forge run: the context length an endpoint publishes in GET /models', () => {
  let fixture: FixtureServer;
  let out: string;
  beforeAll(async () => {
    fixture = await startFixtureServer({ models: ['gpt-4o-mini'] });
    out = await mkdtemp(join(tmpdir(), 'pf-context-'));
  });
  afterAll(async () => fixture?.close());

  const run = (runId: string, extra: string[] = []) =>
    runCli([
      'run',
      '--base-url',
      fixture.baseUrl,
      '--iterations',
      '1',
      '--pairs',
      '2',
      '--candidates',
      '2',
      '--out',
      out,
      '--run-id',
      runId,
      '--log-level',
      'info',
      ...extra,
    ]).result;
  const manifestOf = async (runId: string) =>
    ManifestSchema.parse(JSON.parse(await readFile(join(out, runId, 'manifest.json'), 'utf8')));
  const chatCalls = () => fixture.requests.filter((request) => request.method === 'POST').length;

  it('a published 2,048-token context drops few-shot examples so the run completes; the manifest names the source', async () => {
    fixture.setOptions({ modelEntryFields: { 'gpt-4o-mini': { max_model_len: 2048 } } });
    const { code, stdout, stderr } = await run('published');
    expect(stderr).not.toContain('unexpected error');
    expect(code).toBe(0);
    expect(stdout).toContain('status: completed');
    const manifest = await manifestOf('published');
    expect(manifest.context_length).toEqual({ tokens: 2048, source: 'endpoint' });
    expect(manifest.totals.accepted + manifest.totals.rejected + manifest.totals.failed).toBe(2);
    // 5 examples planned per pair; fewer fit into 2,048 tokens with a 1,200-token reply.
    expect(manifest.totals.few_shot?.planned).toBe(10);
    expect(manifest.totals.few_shot!.used).toBeLessThan(10);
    // The run log says which context the prompts were fitted to, and where it came from.
    const log = await readFile(join(out, 'published', 'run.log'), 'utf8');
    const contextLine = log.split('\n').find((line) => line.includes('"msg":"context length"'));
    expect(contextLine).toContain('"context_tokens":2048');
    expect(contextLine).toContain('"source":"endpoint"');
    expect(log).toContain('context 2,048 tokens (the endpoint /models)');
  }, 120_000);

  it('without a published length nothing is fitted (source none), and every example is shown', async () => {
    fixture.setOptions({ modelEntryFields: {} });
    const { code } = await run('unpublished');
    expect(code).toBe(0);
    const manifest = await manifestOf('unpublished');
    expect(manifest.context_length).toEqual({ tokens: null, source: 'none' });
    expect(manifest.totals.few_shot).toEqual({ planned: 10, used: 10 });
  }, 120_000);

  it('a prompt that cannot fit even with no example exits 2 before any chat call, naming the context and its source', async () => {
    // llama-server publishes the model's training context under meta.
    fixture.setOptions({ modelEntryFields: { 'gpt-4o-mini': { meta: { n_ctx_train: 1024, n_vocab: 32000 } } } });
    const before = chatCalls();
    const { code, stderr } = await run('too-small');
    expect(code).toBe(2);
    expect(stderr).toContain(
      "The generator prompt does not fit the context of 1024 tokens that the endpoint's GET /models entry publishes even with no few-shot example",
    );
    expect(stderr).toContain('llm.context_length');
    expect(stderr).not.toContain('    at ');
    expect(chatCalls()).toBe(before);
    expect(existsSync(join(out, 'too-small'))).toBe(false);
  }, 120_000);

  it('llm.context_length in the config wins over the published value', async () => {
    fixture.setOptions({ modelEntryFields: { 'gpt-4o-mini': { meta: { n_ctx_train: 1024 } } } });
    const config = join(out, 'context.yaml');
    await writeFile(config, 'llm:\n  context_length: 2048\n');
    const { code, stderr } = await run('configured', ['--config', config]);
    expect(stderr).not.toContain('unexpected error');
    expect(code).toBe(0);
    const manifest = await manifestOf('configured');
    expect(manifest.context_length).toEqual({ tokens: 2048, source: 'config' });
    expect(manifest.totals.few_shot!.used).toBeLessThan(10);
  }, 120_000);
});
