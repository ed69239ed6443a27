import type { LlmFaults } from '../schemas/llm-faults.ts';

/** Fault counts a failed call carries up the stack (hedges and abandoned copies of a call that failed). */
const carried = new WeakMap<object, LlmFaults>();

/** Attaches `faults` to `error`, for `takeCarriedFaults` further up the stack. */
export function carryFaults(error: unknown, faults: LlmFaults): void {
  if (typeof error === 'object' && error !== null) carried.set(error, faults);
}

/** The fault counts `error` carries, if any; read once. `retryBackend` adds them to the retried call's usage. */
export function takeCarriedFaults(error: unknown): LlmFaults | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const faults = carried.get(error);
  carried.delete(error);
  return faults;
}
