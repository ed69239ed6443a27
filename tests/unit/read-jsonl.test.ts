import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonl, scanJsonlLines, type JsonlScanStats } from '../../src/output/read-jsonl.ts';
import { recoverJsonl } from '../../src/output/recover-jsonl.ts';

const Record = z.object({ n: z.number().int(), text: z.string() });
let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'pf-read-jsonl-'));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

const lines = (count: number, width = 40) =>
  Array.from({ length: count }, (_, n) => JSON.stringify({ n, text: 'é'.repeat(n % width) })).join('\n') + '\n';
const newStats = (): JsonlScanStats => ({ chunks: 0, bytesRead: 0, bytesCopied: 0 });

describe('scanJsonlLines', () => {
  it('reads each byte once and copies at most each byte once more, whatever the chunk size', async () => {
    const path = join(directory, 'many.jsonl');
    writeFileSync(path, lines(2000));
    const size = statSync(path).size;
    for (const chunkBytes of [13, 256, 4096]) {
      const stats = newStats();
      let count = 0;
      let bytes = 0;
      for await (const line of scanJsonlLines(path, { chunkBytes, stats })) {
        expect(JSON.parse(line.text).n).toBe(count);
        bytes += line.bytes;
        count++;
      }
      expect(count).toBe(2000);
      expect(bytes).toBe(size);
      expect(stats.bytesRead).toBe(size);
      expect(stats.chunks).toBe(Math.ceil(size / chunkBytes));
      // The old reader copied the rest of the file for every line (quadratic); this is linear.
      expect(stats.bytesCopied).toBeLessThanOrEqual(size);
    }
  });

  it('keeps multi-byte characters split across chunks intact and reports the unterminated last line', async () => {
    const path = join(directory, 'tail.jsonl');
    writeFileSync(path, `${JSON.stringify({ n: 1, text: 'ééé' })}\n{"n":2,"te`);
    const scanned = [];
    for await (const line of scanJsonlLines(path, { chunkBytes: 3 })) scanned.push(line);
    expect(scanned.map((line) => [line.text, line.terminated])).toEqual([
      ['{"n":1,"text":"ééé"}', true],
      ['{"n":2,"te', false],
    ]);
    expect(scanned[1].offset).toBe(Buffer.byteLength('{"n":1,"text":"ééé"}\n'));
  });
});

describe('readJsonl', () => {
  it('drops a torn last line only when asked, and names file and line of any other bad line', async () => {
    const path = join(directory, 'torn.jsonl');
    writeFileSync(path, `${lines(3)}{"n":3,"text":"cut`);
    await expect(readJsonl(path, Record)).rejects.toThrow(`${path}:4: invalid JSON`);
    expect((await readJsonl(path, Record, { tolerateTornTail: true })).map((record) => record.n)).toEqual([0, 1, 2]);
    writeFileSync(path, `${lines(2)}{"n":"x","text":""}\n`);
    await expect(readJsonl(path, Record, { tolerateTornTail: true })).rejects.toThrow(`${path}:3: field "n"`);
    writeFileSync(path, `{"n":0,"text":""}\n{bad\n{"n":2,"text":""}\n`);
    await expect(readJsonl(path, Record, { tolerateTornTail: true })).rejects.toThrow(`${path}:2: invalid JSON`);
  });
});

describe('recoverJsonl', () => {
  it('cuts a torn tail by truncating, without copying the file', async () => {
    const path = join(directory, 'rows.jsonl');
    const whole = lines(1000);
    writeFileSync(path, `${whole}{"n":1000,"te`);
    const stats = newStats();
    const seen: number[] = [];
    const recovery = await recoverJsonl(path, Record, { onRecord: (record) => seen.push(record.n), stats });
    expect(recovery).toMatchObject({ kept: 1000, dropped: 0, repair: 'truncated' });
    expect(seen).toHaveLength(1000);
    expect(readFileSync(path, 'utf8')).toBe(whole);
    expect(stats.bytesRead).toBe(Buffer.byteLength(whole) + '{"n":1000,"te'.length);
  });

  it('adds the newline a whole last record lacks, and leaves a clean file alone', async () => {
    const path = join(directory, 'rows.jsonl');
    writeFileSync(path, '{"n":0,"text":""}\n{"n":1,"text":""}');
    expect((await recoverJsonl(path, Record)).repair).toBe('newline-added');
    expect(readFileSync(path, 'utf8')).toBe('{"n":0,"text":""}\n{"n":1,"text":""}\n');
    expect((await recoverJsonl(path, Record)).repair).toBe('none');
  });

  it('rewrites the file without the records `keep` rejects, keeping the other lines byte for byte', async () => {
    const path = join(directory, 'rows.jsonl');
    writeFileSync(path, `{"text":"a", "n":0}\n{"n":1,"text":"b"}\n{"n":2,"text":"c"}\n{"n":3`);
    const recovery = await recoverJsonl(path, Record, { keep: (record) => record.n !== 1 });
    expect(recovery).toMatchObject({ kept: 2, dropped: 1, repair: 'rewritten' });
    expect(readFileSync(path, 'utf8')).toBe('{"text":"a", "n":0}\n{"n":2,"text":"c"}\n');
  });

  it('from a position: reads nothing before it, keeps those bytes as they are, and numbers lines on from it', async () => {
    const path = join(directory, 'rows.jsonl');
    // A line before the position that is not even JSON: never read, never touched.
    const before = `${lines(50)}not json, but before the checkpoint\n`;
    const from = { offset: Buffer.byteLength(before), line: 51 };
    writeFileSync(path, `${before}{"n":51,"text":"a"}\n{"n":52,"text":"b"}\n{"n":53,"text":"c"}\n{"n":54,"te`);
    const stats = newStats();
    const seen: Array<[number, number]> = [];
    const recovery = await recoverJsonl(path, Record, {
      from,
      keep: (record) => record.n !== 52,
      onRecord: (record, line) => seen.push([record.n, line]),
      stats,
    });
    expect(seen).toEqual([
      [51, 52],
      [53, 54],
    ]);
    expect(recovery).toMatchObject({ kept: 2, dropped: 1, repair: 'rewritten' });
    const kept = `${before}{"n":51,"text":"a"}\n{"n":53,"text":"c"}\n`;
    expect(readFileSync(path, 'utf8')).toBe(kept);
    expect(recovery.end).toEqual({ offset: Buffer.byteLength(kept), line: 53 });
    // Two passes over the part after the position (the second to copy what is kept), none before it.
    expect(stats.bytesRead).toBe(2 * (statSync(path).size - from.offset + '{"n":52,"text":"b"}\n{"n":54,"te'.length));
    writeFileSync(path, `${before}{"n":"x","text":""}\n`);
    await expect(recoverJsonl(path, Record, { from })).rejects.toThrow(`${path}:52: field "n"`);
  });

  it('cuts rejected records after the last kept one by truncating, without a rewrite', async () => {
    const path = join(directory, 'rows.jsonl');
    writeFileSync(path, `${lines(3)}{"n":3,"text":""}\n{"n":4,"text":""}\n`);
    const recovery = await recoverJsonl(path, Record, { keep: (record) => record.n < 3 });
    expect(recovery).toMatchObject({ kept: 3, dropped: 2, repair: 'truncated' });
    expect(readFileSync(path, 'utf8')).toBe(lines(3));
  });

  it('is a no-op for a missing file', async () => {
    expect(await recoverJsonl(join(directory, 'missing.jsonl'), Record)).toMatchObject({ kept: 0, repair: 'none' });
  });
});
