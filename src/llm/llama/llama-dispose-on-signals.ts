import type { LlmBackend } from '../llm-backend.ts';

export interface DisposeOnSignalsOptions {
  /** @defaultValue ['SIGINT', 'SIGTERM'] */
  signals?: readonly NodeJS.Signals[];
  /**
   * Runs once the backend is disposed (also when disposal failed). The default raises the signal
   * again with this handler removed, so the process ends the way it would have (exit by SIGINT).
   * A program with its own handler for these signals passes its shutdown step here (or `() => {}`)
   * so the signal is not delivered to it twice.
   */
  onDisposed?: (signal: NodeJS.Signals) => void;
}

/**
 * Disposes `backend` on the first of `signals`, so llama.cpp's memory and threads are released on
 * Ctrl-C before the process ends. Returns a function that removes the handlers (call it after a
 * normal `dispose`).
 */
export function disposeOnSignals(
  backend: Pick<LlmBackend, 'dispose'>,
  options: DisposeOnSignalsOptions = {},
): () => void {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  const onDisposed = options.onDisposed ?? ((signal: NodeJS.Signals) => process.kill(process.pid, signal));
  const remove = () => {
    for (const signal of signals) process.off(signal, handler);
  };
  function handler(signal: NodeJS.Signals): void {
    remove();
    void backend
      .dispose()
      .catch(() => {})
      .finally(() => onDisposed(signal));
  }
  for (const signal of signals) process.on(signal, handler);
  return remove;
}
