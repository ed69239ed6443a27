import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { AttributeSchema, type Attribute } from '../schemas/attribute.ts';
import { InputError } from '../errors.ts';
import type { ImportSkipReason } from '../schemas/import-summary.ts';
import { noteImported, skipRecord, type ImportNotes } from './importers/import-notes.ts';

/** Absolute paths of the built-in seed files shipped in `seeds/`. */
export interface SeedPaths {
  /** `seeds/attributes.jsonl`: one `Attribute` per line. */
  attributes: string;
  /** `seeds/conversations.jsonl`: one `PoolRecord` per line. */
  conversations: string;
}

/** The built-in seed files, resolved relative to this module (works from any working directory). */
export function defaultSeedPaths(): SeedPaths {
  return {
    attributes: fileURLToPath(new URL('../../seeds/attributes.jsonl', import.meta.url)),
    conversations: fileURLToPath(new URL('../../seeds/conversations.jsonl', import.meta.url)),
  };
}

const ATTRIBUTE_EXAMPLE = '{"id":"pets-001","category":"pets","text":"I have a dog."}';

/**
 * Reads a seed attributes file (JSONL, one `Attribute` per line).
 * Blank lines and lines starting with `#` are skipped.
 * @param notes With notes, a bad line is skipped and counted there (or, with `notes.strict`, is the
 *   error); without, the first bad line is the error.
 * @throws InputError naming the file and 1-based line for a missing file, invalid JSON, a field
 *   that does not match `AttributeSchema`, a duplicate id, or a file without any attribute.
 */
export async function loadSeedAttributes(path: string, notes?: ImportNotes): Promise<Attribute[]> {
  const records = await loadJsonlRecords(
    path,
    {
      schema: AttributeSchema,
      example: ATTRIBUTE_EXAMPLE,
      configKey: 'seeds.attributes',
      invalidReason: 'not_an_attribute_record',
    },
    notes,
  );
  if (records.length === 0 && notes && notes.skipped.length > 0) {
    const first = notes.skipped[0];
    throw new InputError(
      `no attributes found: all ${notes.skipped.length} lines were skipped (the first: ${first.message})`,
      path,
      first.line,
    );
  }
  if (records.length === 0) {
    throw new InputError(
      `no attributes found (every line is blank or a comment). Add one JSON object per line like ${ATTRIBUTE_EXAMPLE}`,
      path,
    );
  }
  return records;
}

/** How to read one kind of JSONL seed file. */
export interface JsonlRecordFormat<T> {
  /** Schema every non-blank, non-comment line must match. */
  schema: z.ZodType<T>;
  /** A valid one-line example, quoted in error messages. */
  example: string;
  /** Config key that points at this kind of file, quoted in the "file not found" message. */
  configKey: string;
  /** Extra rule on a parsed record: returns a problem (`field "x": ...`) or undefined. */
  check?: (record: T) => string | undefined;
  /** Skip reason of a line that is JSON but not such a record. @defaultValue 'not_a_conversation_record' */
  invalidReason?: ImportSkipReason;
}

/**
 * Reads a JSONL file of records with an `id`: skips blank and `#` lines, parses each line with
 * `JSON.parse` and the schema, and rejects duplicate ids. Shared by the seed loaders.
 * @param notes With notes, bad lines are skipped and counted (see `skipRecord`); without, thrown.
 * @throws InputError with the file and 1-based line number of the first bad line.
 */
export async function loadJsonlRecords<T extends { id: string }>(
  path: string,
  format: JsonlRecordFormat<T>,
  notes?: ImportNotes,
): Promise<T[]> {
  const reject = (reason: ImportSkipReason, message: string, lineNumber: number) => {
    if (!notes) throw new InputError(message, path, lineNumber);
    skipRecord(notes, path, { line: lineNumber, reason, message });
  };
  const invalidReason = format.invalidReason ?? 'not_a_conversation_record';
  const text = await readSeedFile(path, format.configKey);
  const howToFix = `Each line must be one JSON object like ${format.example}`;
  const records: T[] = [];
  const lineById = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const content = lines[index].trim();
    if (content === '' || content.startsWith('#')) continue;

    let json: unknown;
    try {
      json = JSON.parse(content);
    } catch (error) {
      reject('invalid_json', `invalid JSON (${(error as Error).message}). ${howToFix}`, lineNumber);
      continue;
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      const got = json === null ? 'null' : Array.isArray(json) ? 'an array' : `a ${typeof json}`;
      reject(invalidReason, `expected a JSON object, got ${got}. ${howToFix}`, lineNumber);
      continue;
    }

    const parsed = format.schema.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => describeIssue(issue, json));
      reject(invalidReason, `${problems.join('; ')}. ${howToFix}`, lineNumber);
      continue;
    }
    const problem = format.check?.(parsed.data);
    if (problem !== undefined) {
      reject(invalidReason, `${problem}. ${howToFix}`, lineNumber);
      continue;
    }

    const firstLine = lineById.get(parsed.data.id);
    if (firstLine !== undefined) {
      reject(
        'duplicate_id',
        `duplicate id "${parsed.data.id}" (already used on line ${firstLine}). Ids must be unique within a file: rename one of them.`,
        lineNumber,
      );
      continue;
    }
    lineById.set(parsed.data.id, lineNumber);
    if (notes) noteImported(notes);
    records.push(parsed.data);
  }
  return records;
}

async function readSeedFile(path: string, configKey: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new InputError(
        `file not found. Check the path, or set \`${configKey}\` in your --config file to an existing JSONL file.`,
        path,
      );
    }
    if (code === 'EISDIR') {
      throw new InputError(`is a directory, expected a JSONL file.`, path);
    }
    throw new InputError(`cannot be read (${(error as Error).message}).`, path);
  }
}

/** `field "turns[2].text": Too small: ...`, or `field "text" is missing (expected string)`. */
function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.path.length === 0) return issue.message;
  const field = formatPath(issue.path);
  if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) {
    return `field "${field}" is missing (expected ${issue.expected})`;
  }
  return `field "${field}": ${issue.message}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, index) => (typeof key === 'number' ? `[${key}]` : index === 0 ? String(key) : `.${String(key)}`))
    .join('');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value: unknown = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
