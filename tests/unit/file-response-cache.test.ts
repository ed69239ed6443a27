import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileResponseCache } from '../../src/llm/file-response-cache.ts';

let directory: string;
afterEach(() => rmSync(directory, { recursive: true, force: true }));

function cachePath(): string {
  directory = mkdtempSync(join(tmpdir(), 'pf-file-cache-'));
  return join(directory, 'cache', 'responses.jsonl');
}

describe('openFileResponseCache', () => {
  it('answers entries before and after they are written, and keeps them across reopen', async () => {
    const path = cachePath();
    const cache = await openFileResponseCache(path, { flushIntervalMs: 60_000 });
    await cache.set('k1', '{"text":"first"}');
    await cache.set('k2', '{"text":"ünïcode second"}');
    expect(await cache.get('k1')).toBe('{"text":"first"}'); // still in the unwritten batch
    expect(readFileSync(path, 'utf8')).toBe('');
    await cache.close();
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(2);

    const reopened = await openFileResponseCache(path, { flushIntervalMs: 60_000 });
    expect(await reopened.get('k2')).toBe('{"text":"ünïcode second"}');
    expect(await reopened.get('k1')).toBe('{"text":"first"}');
    expect(await reopened.get('missing')).toBeUndefined();
    await reopened.set('k3', 'third');
    await reopened.close();
    const again = await openFileResponseCache(path);
    expect([await again.get('k1'), await again.get('k2'), await again.get('k3')]).toEqual([
      '{"text":"first"}',
      '{"text":"ünïcode second"}',
      'third',
    ]);
    await again.close();
  });

  it('writes a batch after the flush interval without waiting for close', async () => {
    const path = cachePath();
    const cache = await openFileResponseCache(path, { flushIntervalMs: 20 });
    await cache.set('k1', 'v1');
    await cache.set('k2', 'v2');
    const keysOnDisk = () =>
      readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line).k);
    await expect.poll(keysOnDisk, { timeout: 5000 }).toEqual(['k1', 'k2']);
    // Entries read back from disk after the batch was written.
    expect(await cache.get('k2')).toBe('v2');
    await cache.close();
  });

  it('drops a torn last line (a crash mid-write) and appends after the good lines', async () => {
    const path = cachePath();
    const cache = await openFileResponseCache(path);
    await cache.set('good', 'kept');
    await cache.close();
    appendFileSync(path, '{"k":"torn","v":"cut of');
    const reopened = await openFileResponseCache(path);
    expect(await reopened.get('good')).toBe('kept');
    expect(await reopened.get('torn')).toBeUndefined();
    await reopened.set('next', 'after');
    await reopened.close();
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).k);
    expect(lines).toEqual(['good', 'next']);
  });
});
