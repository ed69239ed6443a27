import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, retryCauseOf, retryDelayMs, retryWithPolicy } from '../../src/llm/retry-policy.ts';
import { LatencyDeadlines } from '../../src/llm/latency-deadlines.ts';
import { EndpointUnreachableError, LlmError, StructuredOutputError } from '../../src/errors.ts';

const policy = { ...DEFAULT_RETRY_POLICY, random: () => 0 };

describe('the retry policy', () => {
  it('names the cause of what it retries and refuses what retrying cannot fix', () => {
    expect(retryCauseOf(new LlmError('x', { status: 429, retryable: true }))).toBe('rate_limited');
    expect(retryCauseOf(new LlmError('x', { status: 503, retryable: true }))).toBe('server_error');
    expect(retryCauseOf(new LlmError('x', { retryable: true, fault: 'truncated_body' }))).toBe('truncated_body');
    expect(retryCauseOf(new StructuredOutputError('x', 'raw'))).toBe('invalid_json');
    expect(retryCauseOf(new LlmError('x', { status: 401 }))).toBeUndefined();
    expect(retryCauseOf(new EndpointUnreachableError('x', { retryable: true }))).toBeUndefined();
    expect(retryCauseOf(new Error('x'))).toBeUndefined();
  });

  it('backs off 0.5 s · 2ⁿ up to 8 s, honours Retry-After in seconds and retry-after-ms up to the cap, and asks again at once after an unusable reply', () => {
    const server = new LlmError('x', { status: 500, retryable: true });
    expect([0, 1, 2, 3, 4, 5].map((retries) => retryDelayMs(server, 'server_error', retries, policy))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000,
    ]);
    expect(
      retryDelayMs(new LlmError('x', { status: 429, retryable: true, retryAfterMs: 2_000 }), 'rate_limited', 0, policy),
    ).toBe(2_000);
    expect(
      retryDelayMs(
        new LlmError('x', { status: 429, retryable: true, retryAfterMs: 3_600_000 }),
        'rate_limited',
        0,
        policy,
      ),
    ).toBe(60_000);
    expect(retryDelayMs(new StructuredOutputError('x', 'raw'), 'invalid_json', 3, policy)).toBe(0);
    // Jitter takes off at most 25 %.
    expect(retryDelayMs(server, 'server_error', 0, { ...policy, random: () => 0.999 })).toBeGreaterThan(375);
  });

  it('stops after maxRetries retries and throws the last error', async () => {
    let calls = 0;
    const error = await retryWithPolicy(
      async () => {
        calls += 1;
        throw new LlmError(`fail ${calls}`, { retryable: true, fault: 'connection_reset' });
      },
      { ...policy, maxRetries: 4 },
    ).catch((caught) => caught);
    expect(calls).toBe(5);
    expect(error.message).toBe('fail 5');
  });

  it('does not retry a non-retryable error', async () => {
    let calls = 0;
    const work = async () => {
      calls += 1;
      throw new LlmError('bad request', { status: 400 });
    };
    await expect(retryWithPolicy(work, policy)).rejects.toThrow('bad request');
    expect(calls).toBe(1);
  });
});

describe('LatencyDeadlines', () => {
  it('uses the cold deadline until enough samples, then multiplier × percentile between floor and ceiling', () => {
    const deadlines = new LatencyDeadlines({ ceilingMs: 120_000, floorMs: 1_000, minSamples: 3 });
    deadlines.observe('critic:m', 2_000);
    deadlines.observe('critic:m', 2_000);
    expect(deadlines.deadlineMs('critic:m')).toBe(30_000);
    deadlines.observe('critic:m', 4_000);
    expect(deadlines.deadlineMs('critic:m')).toBe(8_000);
    for (let index = 0; index < 100; index++) deadlines.observe('generator:m', 100);
    expect(deadlines.deadlineMs('generator:m')).toBe(1_000);
    for (let index = 0; index < 256; index++) deadlines.observe('generator:m', 60_000);
    expect(deadlines.deadlineMs('generator:m')).toBe(120_000);
    expect(deadlines.deadlineMs('other:m')).toBe(30_000);
    expect(new LatencyDeadlines({ ceilingMs: 10_000 }).deadlineMs('any')).toBe(10_000);
  });

  it('rejects nonsense options with a message naming them', () => {
    expect(() => new LatencyDeadlines({ ceilingMs: 0 })).toThrow(
      'Expected `ceilingMs` to be a positive number, got 0.',
    );
    expect(() => new LatencyDeadlines({ ceilingMs: 10, percentile: 2 })).toThrow('`percentile`');
  });
});
