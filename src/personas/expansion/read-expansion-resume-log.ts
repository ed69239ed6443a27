import { InputError } from '../../errors.ts';
import { AttributeSchema, type Attribute } from '../../schemas/attribute.ts';
import { ExpansionQueryRecordSchema, type ExpansionQueryRecord } from '../../schemas/persona-expansion.ts';
import { readJsonlIfExists, type expansionPaths } from './expansion-files.ts';

/** The fix named in every error about an expansion output that cannot be continued. */
export const INTERRUPTED_EXPANSION_HOW_TO_FIX =
  'The file is an interrupted expansion output; delete it (and its .queries.jsonl) or choose another --out.';

/** What an earlier run of the same expansion left on disk. */
export interface ExpansionResumeLog {
  /** The attributes file, in file order (empty when it does not exist). */
  writtenAttributes: Attribute[];
  /** The `<out>.queries.jsonl` records, in file order (empty when it does not exist). */
  queryLog: ExpansionQueryRecord[];
  /** True when either file held work to continue. */
  resumed: boolean;
}

/** Every attribute of the output file (empty when it does not exist). Bad lines are `InputError`s. */
export async function readExpandedAttributesFile(paths: ReturnType<typeof expansionPaths>): Promise<Attribute[]> {
  return (await readJsonlIfExists(paths.attributes, AttributeSchema, INTERRUPTED_EXPANSION_HOW_TO_FIX)) ?? [];
}

/**
 * Reads the attributes file and the query log of an earlier run. An attributes file without a
 * query log is not an expansion in progress and is an `InputError`, so it is never appended to.
 */
export async function readExpansionResumeLog(paths: ReturnType<typeof expansionPaths>): Promise<ExpansionResumeLog> {
  const writtenAttributes = await readExpandedAttributesFile(paths);
  const queryLog =
    (await readJsonlIfExists(paths.queries, ExpansionQueryRecordSchema, INTERRUPTED_EXPANSION_HOW_TO_FIX)) ?? [];
  if (writtenAttributes.length > 0 && queryLog.length === 0) {
    throw new InputError(
      `already exists and is not an expansion in progress (no ${paths.queries}). ${INTERRUPTED_EXPANSION_HOW_TO_FIX}`,
      paths.attributes,
    );
  }
  return { writtenAttributes, queryLog, resumed: writtenAttributes.length > 0 || queryLog.length > 0 };
}
