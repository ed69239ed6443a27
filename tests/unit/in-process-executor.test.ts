import { describe, expect, it } from 'vitest';
import { InProcessExecutor } from '../../src/pipeline/in-process-executor.ts';
import type { PairJob } from '../../src/schemas/pair-job.ts';
import type { PairOutcome } from '../../src/schemas/pair-outcome.ts';

const job = (index: number): PairJob => ({
  run_id: 'run',
  iteration: 1,
  pair: {
    id: `pair-${index}`,
    user1: { id: `a-${index}`, attributes: ['I like tea.'] },
    user2: { id: `b-${index}`, attributes: ['I like coffee.'] },
  },
  pool_version: 0,
  few_shot: [],
});

const outcomeOf = (pairJob: PairJob): PairOutcome => ({
  pair_id: pairJob.pair.id,
  iteration: pairJob.iteration,
  status: 'rejected',
  row: null,
  candidates: [],
  reasons: {},
  error: null,
  usage: {
    generator: { prompt_tokens: 0, completion_tokens: 0, calls: 0 },
    critic: { prompt_tokens: 0, completion_tokens: 0, calls: 0 },
  },
  duration_ms: 1,
});

/** A lazy job source that counts the jobs taken from it and not reported yet. */
function countingSource(count: number) {
  const counters = { yielded: 0, reported: 0, mostOutstanding: 0, closed: false };
  async function* jobs(): AsyncGenerator<PairJob> {
    try {
      for (let index = 0; index < count; index++) {
        counters.yielded++;
        counters.mostOutstanding = Math.max(counters.mostOutstanding, counters.yielded - counters.reported);
        yield job(index);
      }
    } finally {
      counters.closed = true;
    }
  }
  return { counters, jobs: jobs() };
}

describe('InProcessExecutor', () => {
  it('pulls jobs as slots free up, holding at most `concurrency` of a large wave', async () => {
    const { counters, jobs } = countingSource(2000);
    const executor = new InProcessExecutor(async (pairJob) => {
      await new Promise((resolve) => setImmediate(resolve));
      return outcomeOf(pairJob);
    }, 4);
    const reported = new Set<string>();
    await executor.run(jobs, async (outcome) => {
      counters.reported++;
      reported.add(outcome.pair_id);
    });
    expect(reported.size).toBe(2000);
    expect(counters.mostOutstanding).toBeLessThanOrEqual(4);
  });

  it('starts nothing more once the signal aborts or a job fails, and closes the source', async () => {
    const aborted = countingSource(100);
    const controller = new AbortController();
    let ran = 0;
    await new InProcessExecutor(async (pairJob) => {
      if (++ran === 10) controller.abort();
      return outcomeOf(pairJob);
    }, 2).run(aborted.jobs, async () => {}, controller.signal);
    expect(ran).toBeLessThanOrEqual(11);
    expect(aborted.counters.yielded).toBeLessThanOrEqual(12);
    // The source (in a run, a stream of plan.jsonl) is closed, not left open at a yield.
    expect(aborted.counters.closed).toBe(true);

    const failing = countingSource(100);
    let started = 0;
    const running = new InProcessExecutor(async (pairJob) => {
      if (++started === 5) throw new Error('endpoint unreachable');
      return outcomeOf(pairJob);
    }, 3).run(failing.jobs, async () => {});
    await expect(running).rejects.toThrow('endpoint unreachable');
    expect(failing.counters.yielded).toBeLessThanOrEqual(8);
  });
});
