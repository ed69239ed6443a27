import { z } from 'zod';

/**
 * Why an importer left a record out. A skipped record is never half-imported: it is counted here,
 * warned about once (`<file>:<line>: skipped (<reason>): <message>`), and with `--strict` (or
 * `personas.strict`) it is the exit-2 error instead.
 */
export const ImportSkipReasonSchema = z.enum([
  /** The conversation cell (or record) holds nothing but whitespace. */
  'empty_conversation',
  /** Text, but no line that reads as a `User 1:` / `User 2:` (or two-named-speaker) turn. */
  'no_recognizable_turns',
  /** Turns of one speaker only: not a dialogue. */
  'one_speaker_only',
  /** A persona column or field without any attribute. */
  'empty_persona',
  /** More than 10 attributes in one persona (a profile holds at most 10). */
  'too_many_attributes',
  /** A CSV record csv-parse could not read (bad quoting, wrong number of fields). */
  'malformed_csv_record',
  /** A JSONL line that is not JSON. */
  'invalid_json',
  /** A JSON/Parquet record without valid `user1_persona`, `user2_persona` and `turns`. */
  'not_a_conversation_record',
  /** A JSON line of an attributes file that is not an `{"id","text","category"}` attribute. */
  'not_an_attribute_record',
  /** A record whose id was already imported from an earlier line. */
  'duplicate_id',
  /** Persona-Chat: a dialogue whose other side's persona is nowhere in the file. */
  'unknown_persona',
  /** Persona-Chat: an episode with persona lines and no dialogue lines. */
  'no_dialogue_lines',
  /** Persona-Chat: an episode with a line that breaks the ParlAI format (numbering, tab, order). */
  'malformed_episode',
]);
export type ImportSkipReason = z.infer<typeof ImportSkipReasonSchema>;

/** One record left out: where it starts (1-based line; Parquet: row number) and why. */
export const SkippedRecordSchema = z.object({
  line: z.number().int().min(1),
  reason: ImportSkipReasonSchema,
  /** The same sentence the `--strict` error prints. */
  message: z.string(),
});
export type SkippedRecord = z.infer<typeof SkippedRecordSchema>;

/**
 * What importing one dataset file did, record by record: in `evaluation.json` (`dataset.import_notes`),
 * `<out>.stats.json` of `expand` (`import`), `<out>.report.json` of `profiles` and the seed-pairs
 * report of `run` (`import`). `rows_read = imported + skipped + duplicates`.
 */
export const ImportSummarySchema = z.object({
  path: z.string(),
  format: z.enum(['persona-chat', 'spc-csv', 'jsonl', 'parquet']),
  /** Records (CSV rows, JSONL lines, ParlAI episodes, Parquet rows) read from the file. */
  rows_read: z.number().int().min(0),
  /** Records imported, repaired ones included. */
  imported: z.number().int().min(0),
  /** Imported records that needed at least one repair. */
  repaired: z.number().int().min(0),
  /** Repair kind -> imported records that needed it (a record may count under several kinds). */
  repaired_by_kind: z.record(z.string(), z.number().int().min(0)),
  /** Records left out. */
  skipped: z.number().int().min(0),
  skipped_by_reason: z.partialRecord(ImportSkipReasonSchema, z.number().int().min(0)),
  /** Every skipped record, in file order. */
  skipped_records: z.array(SkippedRecordSchema),
  /** Records dropped because the same dialogue was already imported (ConvAI2's two sides). */
  duplicates: z.number().int().min(0),
  /** Line-level clean-up counts summed over all records (SPC CSV speaker turns). */
  turn_repairs: z.record(z.string(), z.number().int().min(0)),
});
export type ImportSummary = z.infer<typeof ImportSummarySchema>;
