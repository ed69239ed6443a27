import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { writeDatasetParquet } from '../../src/output/write-dataset-parquet.ts';
import { DatasetRowSchema, type DatasetRow } from '../../src/schemas/dataset-row.ts';
import { writeLargeRunDirectory } from '../fixtures/write-large-run-directory.ts';

let directory: string;
let rows: DatasetRow[];
beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'pf-parquet-'));
  const run = writeLargeRunDirectory(join(directory, 'run'), { pairs: 6300, turns: 4 });
  rows = readFileSync(join(run.dir, 'conversations.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => DatasetRowSchema.parse(JSON.parse(line)));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('writeDatasetParquet', () => {
  it('stores created_at as a UTC millisecond timestamp that reads back as the same instant', async () => {
    const path = join(directory, 'dataset.parquet');
    await writeDatasetParquet(rows, path);
    const file = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(file);
    const column = metadata.schema.find((element) => element.name === 'created_at')!;
    expect(column).toMatchObject({
      type: 'INT64',
      logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
    });
    const read = (await parquetReadObjects({ file, columns: ['id', 'created_at'] })) as Array<{
      id: string;
      created_at: Date;
    }>;
    expect(read).toHaveLength(rows.length);
    for (const [index, row] of read.entries()) {
      expect(row.created_at).toBeInstanceOf(Date);
      expect(row.created_at.toISOString()).toBe(rows[index].created_at);
    }
  });

  it('writes rows from a stream in row groups of 500', async () => {
    const path = join(directory, 'streamed.parquet');
    let pulled = 0;
    async function* stream() {
      for (const row of rows) {
        pulled++;
        yield row;
      }
    }
    await writeDatasetParquet(stream(), path);
    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
    expect(pulled).toBe(rows.length);
    expect(metadata.row_groups.map((group) => Number(group.num_rows))).toEqual([...Array(8).fill(500), 200]);
  });
});
