/**
 * A fixed set of context sequences lent out one request at a time. A request waits (first come,
 * first served) until a sequence is free; an aborted wait leaves the queue. `close` rejects every
 * waiter and every later request with the given error.
 */
export class LlamaSequencePool<Sequence> {
  private readonly free: Sequence[];
  private readonly waiters: { grant: (sequence: Sequence) => void; fail: (error: unknown) => void }[] = [];
  private closedWith: Error | undefined;

  constructor(sequences: readonly Sequence[]) {
    if (sequences.length === 0) throw new Error('Expected at least one sequence, got 0.');
    this.free = [...sequences];
  }

  /** Requests waiting for a sequence. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Sequences not lent out. */
  get available(): number {
    return this.free.length;
  }

  /**
   * Runs `task` with a sequence of its own and gives the sequence back afterwards. With
   * `preference`, a request that finds several free sequences takes the one scored highest (the
   * llama backend scores the prompt prefix a sequence already holds).
   */
  async use<Result>(
    task: (sequence: Sequence) => Promise<Result>,
    signal?: AbortSignal,
    preference?: (sequence: Sequence) => number,
  ): Promise<Result> {
    const sequence = await this.acquire(signal, preference);
    try {
      return await task(sequence);
    } finally {
      this.release(sequence);
    }
  }

  close(error: Error): void {
    this.closedWith ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.fail(error);
  }

  private acquire(signal?: AbortSignal, preference?: (sequence: Sequence) => number): Promise<Sequence> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    signal?.throwIfAborted();
    if (this.free.length > 0) {
      let chosen = 0;
      if (preference && this.free.length > 1) {
        let bestScore = -Infinity;
        this.free.forEach((candidate, index) => {
          const score = preference(candidate);
          if (score > bestScore) [bestScore, chosen] = [score, index];
        });
      }
      return Promise.resolve(this.free.splice(chosen, 1)[0]);
    }
    return new Promise<Sequence>((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index !== -1) this.waiters.splice(index, 1);
        reject(signal?.reason);
      };
      const waiter = {
        grant: (granted: Sequence) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(granted);
        },
        fail: (error: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private release(sequence: Sequence): void {
    const next = this.waiters.shift();
    if (next) next.grant(sequence);
    else this.free.push(sequence);
  }
}
