import type { Logger } from 'pino';
import type { RunProgress } from '../pipeline/run-progress.ts';
import { formatDuration } from './format-duration.ts';

/**
 * With `liveLine` (a terminal): one live line, redrawn at most every 100 ms. Always: a structured
 * log line per 5% of progress (and the last), so logs stay short; where logs go is the logger's
 * business (`chooseLogDestinations`).
 */
export function createProgressReporter(options: { liveLine: boolean; stream: NodeJS.WritableStream; logger: Logger }) {
  let lastDraw = 0;
  let lastLoggedStep = -1;
  let drawn = false;
  return {
    update(progress: RunProgress) {
      if (options.liveLine) {
        const now = Date.now();
        if (now - lastDraw >= 100 || progress.done >= progress.total) {
          lastDraw = now;
          drawn = true;
          const eta = progress.etaMs === null ? '?' : formatDuration(progress.etaMs);
          const cost = progress.costUsd > 0 ? ` $${progress.costUsd.toFixed(4)}` : '';
          options.stream.write(
            `\r\x1b[2Kiteration ${progress.iteration}/${progress.iterations}  pairs ${progress.done}/${progress.total}` +
              `  accepted ${progress.accepted}  rejected ${progress.rejected}  failed ${progress.failed}` +
              `  tokens ${progress.tokens.toLocaleString('en-US')}${cost}  elapsed ${formatDuration(progress.elapsedMs)}  ETA ${eta}`,
          );
        }
      }
      const step = Math.floor((progress.done / Math.max(1, progress.total)) * 20);
      if (step === lastLoggedStep && progress.done < progress.total) return;
      lastLoggedStep = step;
      options.logger.info(
        {
          iteration: progress.iteration,
          done: progress.done,
          total: progress.total,
          accepted: progress.accepted,
          rejected: progress.rejected,
          failed: progress.failed,
          tokens: progress.tokens,
          cost_usd: Number(progress.costUsd.toFixed(6)),
          eta_s: progress.etaMs === null ? null : Math.round(progress.etaMs / 1000),
        },
        'progress',
      );
    },
    /**
     * While pairs are planned (before any pair runs): the live line shows the pairs planned of the
     * batch (finished profiles count in), planning's calls, tokens and cost, and the time left.
     */
    planning(progress: {
      calls: number;
      tokens: number;
      costUsd: number;
      elapsedMs: number;
      pairs?: { planned: number; total: number; etaMs: number | null };
    }) {
      if (!options.liveLine) return;
      drawn = true;
      const cost = progress.costUsd > 0 ? ` $${progress.costUsd.toFixed(4)}` : '';
      const pairs = progress.pairs
        ? ` ${progress.pairs.planned.toLocaleString('en-US')}/${progress.pairs.total.toLocaleString('en-US')}`
        : '';
      const eta = progress.pairs
        ? `  ETA ${progress.pairs.etaMs === null ? '?' : formatDuration(progress.pairs.etaMs)}`
        : '';
      options.stream.write(
        `\r\x1b[2Kplanning pairs${pairs}  LLM calls ${progress.calls.toLocaleString('en-US')}` +
          `  tokens ${progress.tokens.toLocaleString('en-US')}${cost}  elapsed ${formatDuration(progress.elapsedMs)}${eta}`,
      );
    },
    /** Ends the live line (idempotent), so what follows starts on a line of its own. */
    finish() {
      if (drawn) options.stream.write('\n');
      drawn = false;
    },
  };
}
