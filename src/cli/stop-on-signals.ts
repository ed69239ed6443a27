import { EXIT_CODES } from './handle-cli-error.ts';

/**
 * SIGINT/SIGTERM handling of a command, in two phases. While `preparing` (inputs checked, endpoint
 * probed, model loaded: nothing written yet) the first signal exits 130 at once. While `running`
 * the first signal aborts `signal` (the pipeline admits no new pair, stops planning, finishes and
 * writes what is in flight) and `notify` says so; a second signal exits 130 at once.
 */
export class StopOnSignals {
  private readonly controller = new AbortController();
  private phase: 'preparing' | 'running' = 'preparing';
  private signals = 0;
  private readonly onSignal = (signal: NodeJS.Signals) => this.handle(signal);

  constructor(
    private readonly notify: (message: string, signal: NodeJS.Signals) => void,
    private readonly beforeExit: () => void = () => {},
  ) {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** From now on a first signal stops the run gracefully instead of exiting. */
  running(): void {
    this.phase = 'running';
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  private handle(signal: NodeJS.Signals): void {
    this.signals += 1;
    if (this.phase === 'preparing') {
      this.notify('interrupted before the run started; nothing was written', signal);
      this.exitNow();
    }
    if (this.signals > 1) {
      this.notify('interrupted again: quitting now; finished pairs are on disk, continue with --resume', signal);
      this.exitNow();
    }
    this.notify(
      'stopping: no new pairs start; the pairs in flight finish and every file is written (press Ctrl-C again to quit now)',
      signal,
    );
    this.controller.abort();
  }

  private exitNow(): never {
    this.beforeExit();
    process.exit(EXIT_CODES.interrupted);
  }
}
