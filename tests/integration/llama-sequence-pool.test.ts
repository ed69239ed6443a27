import { describe, expect, it } from 'vitest';
import { LlamaSequencePool } from '../../src/llm/llama/llama-sequence-pool.ts';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('LlamaSequencePool', () => {
  it('lends each sequence to one task at a time and serves waiters first come, first served', async () => {
    const pool = new LlamaSequencePool(['s0', 's1']);
    const gates = [deferred(), deferred(), deferred()];
    const order: string[] = [];
    const tasks = ['a', 'b', 'c', 'd'].map((name, index) =>
      pool.use(async (sequence) => {
        order.push(`${name}:${sequence}`);
        await gates[index]?.promise;
        return name;
      }),
    );
    await Promise.resolve();
    expect(order).toEqual(['a:s0', 'b:s1']);
    expect({ available: pool.available, waiting: pool.waiting }).toEqual({ available: 0, waiting: 2 });
    gates[1].resolve();
    await tasks[1];
    await Promise.resolve();
    expect(order).toEqual(['a:s0', 'b:s1', 'c:s1']);
    gates[0].resolve();
    gates[2].resolve();
    expect(await Promise.all(tasks)).toEqual(['a', 'b', 'c', 'd']);
    expect(order.at(-1)).toBe('d:s0');
    expect(pool.available).toBe(2);
  });

  it('gives the sequence back when a task fails', async () => {
    const pool = new LlamaSequencePool(['only']);
    await expect(pool.use(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await pool.use(async (sequence) => sequence)).toBe('only');
  });

  it('drops an aborted waiter from the queue', async () => {
    const pool = new LlamaSequencePool(['only']);
    const gate = deferred();
    const running = pool.use(() => gate.promise);
    const controller = new AbortController();
    const waiting = pool.use(async () => 'never', controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    expect(pool.waiting).toBe(0);
    gate.resolve();
    await running;
    expect(pool.available).toBe(1);
  });

  it('rejects waiters and later requests once closed', async () => {
    const pool = new LlamaSequencePool(['only']);
    const gate = deferred();
    const running = pool.use(() => gate.promise);
    const waiting = pool.use(async () => 'never');
    pool.close(new Error('disposed'));
    await expect(waiting).rejects.toThrow('disposed');
    await expect(pool.use(async () => 'never')).rejects.toThrow('disposed');
    gate.resolve();
    await running;
  });
});
