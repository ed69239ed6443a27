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
    await writeFile(config, 'profiles:\n  contradiction_check: false\ngeneration:\n  few_shot: 1\nllm:\n  context_size: 32768\n  max_output_tokens: 300\n  critic_max_output_tokens: 120\n');
    const { code, stdout, stderr } = await runCli(
      ['run', '--model-path', model.path, '--iterations', '1', '--pairs', '2', '--candidates', '2', '--out', model.dir, '--run-id', 'tiny', '--config', config],
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
    const outcomes = (await readFile(join(runDir, 'outcomes.jsonl'), 'utf8')).split('\n').filter(Boolean).map((line) => OutcomeLineSchema.parse(JSON.parse(line)));
    expect(outcomes).toHaveLength(2);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(Object.keys(outcome.reasons).length).toBeGreaterThan(0);
      if (outcome.status === 'accepted') expect(outcome.row_id).toBeTruthy();
    }
  }, 320_000);
});
