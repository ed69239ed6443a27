import pLimit from 'p-limit';
import type { Executor } from './executor.ts';
import type { PairJob } from '../schemas/pair-job.ts';
import type { PairOutcome } from '../schemas/pair-outcome.ts';

/** Runs jobs in this process, `concurrency` at a time. The default executor. */
export class InProcessExecutor implements Executor {
  readonly kind = 'in-process';

  constructor(
    private readonly runJob: (job: PairJob) => Promise<PairOutcome>,
    /** Jobs in flight at once. @defaultValue 4 */
    private readonly concurrency = 4,
  ) {}

  async run(jobs: readonly PairJob[], onOutcome: (outcome: PairOutcome) => Promise<void>, signal?: AbortSignal) {
    const limit = pLimit(this.concurrency);
    let reporting: Promise<void> = Promise.resolve();
    const report = (outcome: PairOutcome) => (reporting = reporting.then(() => onOutcome(outcome)));
    await Promise.all(
      jobs.map((job) =>
        limit(async () => {
          if (signal?.aborted) return;
          try {
            await report(await this.runJob(job));
          } catch (error) {
            // A fatal error (e.g. unreachable endpoint): start nothing else.
            limit.clearQueue();
            throw error;
          }
        }),
      ),
    );
    await reporting;
  }

  async close() {}
}
