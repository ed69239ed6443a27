import { mkdir, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileWriter, parquetWriteRows, type SchemaElement } from 'hyparquet-writer';
import type { DatasetRow } from '../schemas/dataset-row.ts';

const string = (name: string): SchemaElement => ({
  name,
  type: 'BYTE_ARRAY',
  converted_type: 'UTF8',
  repetition_type: 'REQUIRED',
});
const int32 = (name: string): SchemaElement => ({ name, type: 'INT32', repetition_type: 'REQUIRED' });
const double = (name: string): SchemaElement => ({ name, type: 'DOUBLE', repetition_type: 'REQUIRED' });
/** A 3-level LIST of required elements. */
const list = (name: string, element: SchemaElement[]): SchemaElement[] => [
  { name, repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  ...element,
];
const map = (name: string, value: SchemaElement): SchemaElement[] => [
  { name, repetition_type: 'REQUIRED', converted_type: 'MAP', num_children: 1 },
  { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
  string('key'),
  value,
];
const struct = (name: string, children: SchemaElement[][]): SchemaElement[] => [
  { name, repetition_type: 'REQUIRED', num_children: children.length },
  ...children.flat(),
];

/**
 * The explicit Parquet schema of a dataset row: lists, structs and maps as real nested types
 * (without it hyparquet-writer would store nested values as JSON strings).
 */
export const DATASET_PARQUET_SCHEMA: SchemaElement[] = (() => {
  const columns: SchemaElement[][] = [
    [string('id')],
    [string('run_id')],
    [int32('iteration')],
    [string('pair_id')],
    list('user1_persona', [string('element')]),
    list('user2_persona', [string('element')]),
    list('turns', struct('element', [[string('speaker')], [string('text')]])),
    map('scores', double('value')),
    struct('lineage', [
      [string('generator_model')],
      [string('critic_model')],
      [string('prompt_hash')],
      map('critic_hashes', string('value')),
      list('few_shot_ids', [string('element')]),
      [int32('pool_version')],
      [int32('candidate_index')],
      [int32('candidates')],
    ]),
    struct('usage', [[int32('prompt_tokens')], [int32('completion_tokens')], [double('cost_usd')]]),
    [string('created_at')],
    [int32('schema_version')],
  ];
  return [{ name: 'root', num_children: columns.length }, ...columns.flat()];
})();

const COLUMN_NAMES = [
  'id', 'run_id', 'iteration', 'pair_id', 'user1_persona', 'user2_persona', 'turns',
  'scores', 'lineage', 'usage', 'created_at', 'schema_version',
] as const;

/**
 * Writes dataset rows to a Parquet file (SNAPPY, streamed in row groups) through a temporary
 * file and a rename, so an existing `dataset.parquet` is never left half-written.
 */
export async function writeDatasetParquet(rows: Iterable<DatasetRow> | AsyncIterable<DatasetRow>, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporaryPath = `${path}.${process.pid}.tmp`;
  const writer = fileWriter(temporaryPath);
  await parquetWriteRows({
    writer,
    rows: rows as Iterable<Record<string, unknown>>,
    columns: COLUMN_NAMES.map((name) => ({ name })),
    schema: DATASET_PARQUET_SCHEMA,
    rowGroupSize: 5000,
  });
  await rename(temporaryPath, path);
}
