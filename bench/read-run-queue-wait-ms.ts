import { readFileSync } from 'node:fs';

/** `/proc/<pid>/schedstat` field 2: ns the (main) thread spent runnable, waiting for a CPU, in ms (NaN off Linux). */
export function readRunQueueWaitMs(pid: number | 'self'): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
  } catch {
    return Number.NaN;
  }
}
