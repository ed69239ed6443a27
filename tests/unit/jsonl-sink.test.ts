import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJsonlSink } from '../../src/output/jsonl-sink.ts';

let directory: string;
afterEach(() => rmSync(directory, { recursive: true, force: true }));

const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));

describe('openJsonlSink', () => {
  it('writes concurrent appends whole and in call order, each resolved once on disk', async () => {
    directory = mkdtempSync(join(tmpdir(), 'pf-sink-'));
    const path = join(directory, 'nested', 'rows.jsonl');
    const sink = await openJsonlSink(path);
    const resolvedWith: number[] = [];
    const appends = Array.from({ length: 50 }, (_, index) =>
      sink
        .append([
          { index, part: 'a' },
          { index, part: 'b' },
        ])
        .then(() => {
          // When an append resolves its own lines are in the file.
          const written = lines(path);
          expect(written.some((line) => line.index === index && line.part === 'b')).toBe(true);
          resolvedWith.push(index);
        }),
    );
    await Promise.all(appends);
    // What a checkpoint records: the bytes on disk and the records written since opening.
    expect(sink.size).toBe(statSync(path).size);
    expect(sink.recordsWritten).toBe(100);
    await sink.close();
    const reopened = await openJsonlSink(path);
    expect([reopened.size, reopened.recordsWritten]).toEqual([statSync(path).size, 0]);
    await reopened.close();
    const written = lines(path);
    expect(written).toHaveLength(100);
    expect(written.map((line) => `${line.index}${line.part}`)).toEqual(
      Array.from({ length: 50 }, (_, index) => [`${index}a`, `${index}b`]).flat(),
    );
    expect(resolvedWith).toHaveLength(50);
  });

  it('appends to an existing file and treats an empty append as a flush', async () => {
    directory = mkdtempSync(join(tmpdir(), 'pf-sink-'));
    const path = join(directory, 'rows.jsonl');
    const first = await openJsonlSink(path);
    await first.append([{ n: 1 }]);
    await first.close();
    const second = await openJsonlSink(path);
    await second.append([]);
    await second.append([{ n: 2 }]);
    await second.flush();
    await second.close();
    expect(lines(path)).toEqual([{ n: 1 }, { n: 2 }]);
  });
});
