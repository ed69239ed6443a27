import { describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTinyModel } from '../fixtures/tiny-model.ts';
import { runCli } from '../fixtures/run-cli.ts';
import { ManifestSchema } from '../../src/schemas/manifest.ts';
import { OutcomeLineSchema } from '../../src/schemas/outcome-line.ts';

// The tiny model has random weights: its text is gibberish. This proves the mechanics of the
// whole loop on the embedded llama.cpp backend, not quality.
describe('persona-forge run on the embedded llama.cpp backend (tiny self-made GGUF)', () => {
  const model = useTinyModel();

  it('runs 1 iteration x 2 pairs x 2 candidates and accounts for every pair', async () => {
    const config = join(model.dir, 'tiny.yaml');
    // A byte-level vocabulary needs one token per byte: a large context, one few-shot example.
    await writeFile(
      config,
      'profiles:\n  contradiction_check: false\ngeneration:\n  few_shot: 1\nllm:\n  context_size: 32768\n  max_output_tokens: 300\n  critic_max_output_tokens: 120\n',
    );
    const { code, stdout, stderr } = await runCli(
      [
        'run',
        '--model-path',
        model.path,
        '--iterations',
        '1',
        '--pairs',
        '2',
        '--candidates',
        '2',
        '--out',
        model.dir,
        '--run-id',
        'tiny',
        '--config',
        config,
      ],
      { timeoutMs: 300_000 },
    ).result;
    expect(stderr).not.toContain('unexpected error');
    expect(code).toBe(0);
    expect(stdout).toContain('status: completed');
    const runDir = join(model.dir, 'tiny');
    const manifest = ManifestSchema.parse(JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8')));
    expect(manifest.backend).toBe('llama.cpp');
    const [iteration] = manifest.iterations;
    expect(iteration.accepted + iteration.rejected + iteration.failed).toBe(2);
    expect(iteration.failed).toBe(0);
    expect(iteration.usage.generator.calls).toBeGreaterThanOrEqual(4);
    expect(iteration.usage.generator.completion_tokens).toBeGreaterThan(0);
    const outcomes = (await readFile(join(runDir, 'outcomes.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => OutcomeLineSchema.parse(JSON.parse(line)));
    expect(outcomes).toHaveLength(2);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(Object.keys(outcome.reasons).length).toBeGreaterThan(0);
      if (outcome.status === 'accepted') expect(outcome.row_id).toBeTruthy();
    }
  }, 320_000);
});

// The word-level vocabulary tokenizes English like a real model (~0.25 tokens per character), so a
// 2,048-token training context is as tight here as on a real small model.
describe('persona-forge run on a model with a 2,048-token context (tiny GGUF, word vocabulary)', () => {
  const model = useTinyModel({ vocabulary: 'words', contextLength: 2048 });

  it('fits the default few-shot prompt into the context and accounts for every pair; prefix reuse shows in the manifest', async () => {
    const config = join(model.dir, 'small.yaml');
    // The paper's few-shot setting (5 examples, 1,200-token replies) that used to crash on this context,
    // with profile planning's contradiction check on (8 checks per call asked ~2,200-token prompts).
    await writeFile(
      config,
      'profiles:\n  contradiction_check: true\ngeneration:\n  few_shot: 5\nllm:\n  max_output_tokens: 1200\n',
    );
    const { code, stdout, stderr } = await runCli(
      [
        'run',
        '--model-path',
        model.path,
        '--iterations',
        '1',
        '--pairs',
        '2',
        '--candidates',
        '2',
        '--out',
        model.dir,
        '--run-id',
        'small',
        '--config',
        config,
      ],
      { timeoutMs: 300_000 },
    ).result;
    expect(stderr).not.toContain('unexpected error');
    expect(code).toBe(0);
    expect(stdout).toContain('status: completed');
    const manifest = ManifestSchema.parse(
      JSON.parse(await readFile(join(model.dir, 'small', 'manifest.json'), 'utf8')),
    );
    const [iteration] = manifest.iterations;
    expect(iteration.accepted + iteration.rejected + iteration.failed).toBe(2);
    expect(iteration.failed).toBe(0);
    // Planning asked its contradiction checks in calls that fit the context: fewer than 8 per call,
    // each prompt leaving the 320-token reply room of the local critic.
    const fitted = (stderr + stdout)
      .split('\n')
      .filter((line) => line.includes('"contradiction checks fitted to the context"'))
      .map((line) => JSON.parse(line) as { context_tokens: number; fit_with_longest_attributes: number });
    expect(fitted).toHaveLength(1);
    expect(fitted[0].context_tokens).toBe(2048);
    expect(fitted[0].fit_with_longest_attributes).toBeLessThan(8);
    const planning = manifest.planning.usage.critic;
    expect(planning.calls).toBeGreaterThan(0);
    expect(planning.prompt_tokens / planning.calls).toBeLessThanOrEqual(2048 - 320);
    // 5 examples planned per prompt; fewer fit into 2,048 tokens with a 1,200-token reply.
    expect(manifest.totals.few_shot?.planned).toBeGreaterThanOrEqual(10);
    expect(manifest.totals.few_shot!.used).toBeLessThan(manifest.totals.few_shot!.planned);
    const outcomes = (await readFile(join(model.dir, 'small', 'outcomes.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => OutcomeLineSchema.parse(JSON.parse(line)));
    expect(outcomes.every((outcome) => outcome.few_shot !== undefined && outcome.few_shot.used < 5)).toBe(true);
    // Two candidates share one evaluation of their prompt (and the retry reuses it again).
    const generator = manifest.totals.usage.generator;
    expect(generator.prompt_tokens_evaluated).toBeGreaterThan(0);
    expect(generator.prompt_tokens_evaluated!).toBeLessThanOrEqual(generator.prompt_tokens / 2);
  }, 320_000);

  it.each(['simple', 'synthesize'])(
    'exits 2 before planning when one contradiction check cannot fit with its reply room, naming the context size (%s)',
    async (mode) => {
      const config = join(model.dir, `long-verdicts-${mode}.yaml`);
      // The embedded defaults leave the check off; it is turned on here.
      await writeFile(
        config,
        `personas:\n  mode: ${mode}\nprofiles:\n  contradiction_check: true\nllm:\n  critic_max_output_tokens: 1900\n`,
      );
      const { code, stderr } = await runCli(
        [
          'run',
          '--model-path',
          model.path,
          '--iterations',
          '1',
          '--pairs',
          '2',
          '--out',
          model.dir,
          '--run-id',
          `long-verdicts-${mode}`,
          '--config',
          config,
        ],
        { timeoutMs: 120_000 },
      ).result;
      expect(code).toBe(2);
      expect(stderr).toContain(
        "contradiction check of profile planning does not fit the model's context of 2048 tokens",
      );
      expect(stderr).toMatch(/llm\.critic_max_output_tokens: \d+ or less/);
      expect(stderr).toContain('profiles.contradiction_check: false');
      expect(stderr).not.toMatch(/\n\s+at /);
      await expect(readFile(join(model.dir, `long-verdicts-${mode}`, 'manifest.json'), 'utf8')).rejects.toThrow();
    },
    150_000,
  );
});

describe('persona-forge run on a model whose context cannot hold the prompt (tiny GGUF, 512 tokens)', () => {
  const model = useTinyModel({ vocabulary: 'words', contextLength: 512 });

  it('exits 2 before the first LLM call, naming the context size and settings that would fit', async () => {
    const { code, stderr } = await runCli(
      [
        'run',
        '--model-path',
        model.path,
        '--iterations',
        '1',
        '--pairs',
        '2',
        '--candidates',
        '2',
        '--out',
        model.dir,
        '--run-id',
        'tight',
      ],
      { timeoutMs: 120_000 },
    ).result;
    expect(code).toBe(2);
    expect(stderr).toContain("model's context of 512 tokens even with no few-shot example");
    expect(stderr).toMatch(/a context of at least \d+ tokens/);
    expect(stderr).not.toMatch(/\n\s+at /);
    // Stopped before the run directory (and any call): profile planning never started.
    await expect(readFile(join(model.dir, 'tight', 'manifest.json'), 'utf8')).rejects.toThrow();
  }, 150_000);
});

// The README main command's pair plan on the embedded model: no --pairs and no --target means
// exactly 10 accepted conversations, within a token cap (here lowered to keep the test short).
describe('persona-forge run on the embedded model without --pairs: a target of 10 accepted, capped by tokens', () => {
  const model = useTinyModel({ vocabulary: 'words' });

  it('plans pairs toward 10 accepted, states the acceptance it assumes, and stops at the token cap', async () => {
    const { code, stdout, stderr } = await runCli(
      [
        'run',
        '--model-path',
        model.path,
        '--iterations',
        '1',
        '--max-tokens',
        '40000',
        '--out',
        model.dir,
        '--run-id',
        'target',
      ],
      { timeoutMs: 300_000 },
    ).result;
    expect(stderr).not.toContain('unexpected error');
    expect(stderr).toMatch(/projected: 10 pairs, .* at 100% acceptance; at most \d+ pairs .*within the token cap/);
    expect(stderr).toContain('--target 10: assumes every pair accepted (10 pairs)');
    const runDir = join(model.dir, 'target');
    const { config } = JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8'));
    expect(config.target).toBe(10);
    expect(config.budget.max_tokens).toBe(40000);
    const manifest = ManifestSchema.parse(JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8')));
    expect(manifest.totals.failed).toBe(0);
    // Random weights accept little: either the target was met exactly, or the cap stopped the run
    // with exit 3 and the line that continues it.
    if (manifest.status === 'completed') {
      expect(code).toBe(0);
      expect(manifest.totals.accepted).toBe(10);
    } else {
      expect(manifest.status).toBe('budget_exhausted');
      expect(code).toBe(3);
      expect(stdout).toContain(`--resume ${runDir} --max-tokens <higher>`);
      expect(manifest.totals.accepted).toBeLessThan(10);
    }
  }, 320_000);
});
