import { describe, expect, it } from 'vitest';
import { formatRunProjection, projectRun } from '../../src/pipeline/project-run.ts';
import { LOCAL_MODEL_DEFAULTS } from '../../src/llm/llama/local-model-defaults.ts';
import { RunConfigSchema } from '../../src/schemas/run-config.ts';

const critics = { filters: 2, rankers: 5 };
const local = (overrides: Record<string, unknown> = {}) =>
  RunConfigSchema.parse({ ...LOCAL_MODEL_DEFAULTS, ...overrides });

describe('projectRun', () => {
  it('adds pair times up on the embedded model: more pairs in flight do not shorten the run', () => {
    const two = projectRun(local({ concurrency: 2 }), { generatorPromptTokens: 1500, critics, local: true });
    const eight = projectRun(local({ concurrency: 8 }), { generatorPromptTokens: 1500, critics, local: true });
    expect(two.durationMs).toBeGreaterThan(0);
    expect(eight.durationMs).toBe(two.durationMs);
    const double = projectRun(local({ pairs: 12 }), { generatorPromptTokens: 1500, critics, local: true });
    // Twice the pairs: nearly twice the time (shared prefixes spread over more pairs).
    expect(double.durationMs! / two.durationMs!).toBeGreaterThan(1.8);
    expect(double.durationMs! / two.durationMs!).toBeLessThanOrEqual(2);
  });

  it('counts calls by selection scheme and evaluates shared prompts once on the embedded model', () => {
    const listwise = projectRun(local(), { generatorPromptTokens: 1500, critics, local: true });
    expect(listwise.pairs).toBe(12);
    expect(listwise.calls).toEqual({ generator: 12, critic: 24 });
    expect(listwise.tokens.promptEvaluated).toBeLessThan(listwise.tokens.prompt / 2);
    const paper = projectRun(RunConfigSchema.parse({ critique: { selection: 'round-robin' } }), {
      generatorPromptTokens: 3000,
      critics,
      local: false,
    });
    // 4 candidates: 2 filters each, 6 comparisons x 5 rankers x 2 orders.
    expect(paper.calls.critic).toBe(30 * (8 + 60));
    expect(paper.durationMs).toBeNull();
    expect(paper.tokens.promptEvaluated).toBe(paper.tokens.prompt);
  });

  it('with a target, states the acceptance rate it assumes and the pairs the token cap allows', () => {
    const config = local({ target: 10, budget: { max_tokens: 110_000 } });
    const projection = projectRun(config, { generatorPromptTokens: 1500, critics, local: true });
    expect(projection.pairs).toBe(10);
    expect(projection.assumedAcceptance).toBe(1);
    const tokensPerPair = (projection.tokens.prompt + projection.tokens.completion) / projection.pairs;
    expect(projection.cap!.pairs).toBe(Math.floor(110_000 / tokensPerPair));
    expect(projection.cap!.durationMs! / projection.durationMs!).toBeCloseTo(projection.cap!.pairs / 10, 5);
    const line = formatRunProjection(projection);
    expect(line).toMatch(/~\d+ min at 100% acceptance; at most \d+ pairs \(~\d+ min\) within the token cap/);
    expect(line).toContain('assumes every pair accepted (10 pairs)');
    expect(line).toContain('110,000-token cap');
  });

  it('prints one line with pairs, calls, tokens and minutes', () => {
    const line = formatRunProjection(projectRun(local(), { generatorPromptTokens: 1500, critics, local: true }));
    expect(line).toMatch(
      /^projected: 12 pairs, 36 LLM calls, [\d,]+ prompt tokens \([\d,]+ evaluated\), [\d,]+ generated, ~\d+ min \(/,
    );
  });
});
