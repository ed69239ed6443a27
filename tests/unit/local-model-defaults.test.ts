import { describe, expect, it } from 'vitest';
import { loadRunConfig } from '../../src/config/load-run-config.ts';
import {
  LOCAL_MODEL_MAX_TOKENS,
  LOCAL_MODEL_TARGET,
  localModelDefaultsFor,
} from '../../src/llm/llama/local-model-defaults.ts';

const resolve = (flags: Record<string, unknown>) =>
  loadRunConfig({ env: {}, localModelDefaults: localModelDefaultsFor, flags });

describe('the embedded model defaults', () => {
  it('without --pairs or --target: exactly 10 accepted conversations, capped by a token budget', async () => {
    const config = await resolve({});
    expect(config.target).toBe(LOCAL_MODEL_TARGET);
    expect(config.budget.max_tokens).toBe(LOCAL_MODEL_MAX_TOKENS);
    expect(config.candidates).toBe(2);
    expect(config.profiles.contradiction_check).toBe(false);
  });

  it('--pairs keeps its meaning (that many pairs, no target, no cap)', async () => {
    const config = await resolve({ pairs: 4 });
    expect(config.target).toBeUndefined();
    expect(config.pairs).toBe(4);
    expect(config.budget.max_tokens).toBeUndefined();
  });

  it("--target of the user's own gets no token cap; a cap of the user's own wins over the default", async () => {
    const target = await resolve({ target: 40 });
    expect(target.target).toBe(40);
    expect(target.budget.max_tokens).toBeUndefined();
    const capped = await resolve({ budget: { max_tokens: 5000 } });
    expect(capped.target).toBe(LOCAL_MODEL_TARGET);
    expect(capped.budget.max_tokens).toBe(5000);
  });

  it('endpoint runs keep the paper-faithful defaults', async () => {
    const config = await resolve({ llm: { base_url: 'http://127.0.0.1:1/v1' } });
    expect(config.target).toBeUndefined();
    expect(config.pairs).toBe(10);
    expect(config.budget.max_tokens).toBeUndefined();
    expect(config.profiles.contradiction_check).toBe(true);
  });
});
