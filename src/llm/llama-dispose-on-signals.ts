import type { LlmBackend } from './llm-backend.ts';

/**
 * Disposes `backend` when the process receives one of `signals`, so llama.cpp's memory and worker
 * threads are released on Ctrl-C. When no other listener handles the signal, it is raised again
 * after disposal so the process ends the way it would have without this handler. Returns a
 * function that removes the handlers (call it after a normal `dispose`).
 */
export function disposeOnSignals(
  backend: Pick<LlmBackend, 'dispose'>,
  signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'],
): () => void {
  const remove = () => {
    for (const signal of signals) process.off(signal, handler);
  };
  function handler(signal: NodeJS.Signals): void {
    remove();
    void backend
      .dispose()
      .catch(() => {})
      .finally(() => {
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
  }
  for (const signal of signals) process.on(signal, handler);
  return remove;
}
