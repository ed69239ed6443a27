import { OutcomeLineSchema } from '../schemas/outcome-line.ts';
import { forEachJsonlLineBytes, type JsonlScanStats } from '../output/read-jsonl.ts';
import type { FinishedPairs } from './finished-pairs.ts';

const OutcomeKeySchema = OutcomeLineSchema.pick({ iteration: true, pair_id: true, status: true });
const ITERATION = Buffer.from('{"iteration":');
const PAIR_ID = Buffer.from(',"pair_id":"');
const STATUS = Buffer.from('","status":"');
const STATUSES = ['accepted', 'rejected', 'failed'] as const;
/** Each status with the quote that closes it. */
const STATUS_BYTES = STATUSES.map((name) => ({ name, bytes: Buffer.from(`${name}"`) }));
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The key of one outcome line. */
interface OutcomeKey {
  iteration: number;
  pairId: string;
  status: (typeof STATUSES)[number];
}

/**
 * Adds to `done` the pair of every outcome line in the first `endOffset` bytes of `path` (lines
 * a checkpoint already counted): only the key of each line is read. Returns false, having added
 * some, when a line there is failed or unreadable (then every line must be read as a resume
 * without a checkpoint does).
 */
export async function readFinishedPairs(
  path: string,
  endOffset: number,
  done: FinishedPairs,
  stats?: JsonlScanStats,
): Promise<boolean> {
  let usable = true;
  await forEachJsonlLineBytes(
    path,
    (source, start, end) => {
      if (!usable || start === end) return;
      const key = outcomeKeyAt(source, start, end);
      if (!key || key.status === 'failed') usable = false;
      else if (typeof key.pairId === 'string') done.add(key.iteration, key.pairId);
      else done.addBytes(key.iteration, source, key.pairId.start, key.pairId.end);
    },
    { to: endOffset, stats },
  );
  return usable;
}

/** The key of one outcome line (see `outcomeKeyAt`). */
export function readOutcomeKey(line: Buffer): OutcomeKey | undefined {
  const key = outcomeKeyAt(line, 0, line.length);
  if (!key || typeof key.pairId === 'string') return key as OutcomeKey | undefined;
  return { ...key, pairId: line.toString('utf8', key.pairId.start, key.pairId.end) };
}

/**
 * The key of the outcome line `source[start, end)`. The run writes each line with `iteration`,
 * `pair_id` and `status` first (`JSON.stringify` keeps the order the line is built in), so the key
 * is read from the line's first bytes without parsing the rest (the usage and counts a checkpoint
 * already holds); a line in any other shape is parsed and validated in full.
 */
function outcomeKeyAt(
  source: Buffer,
  start: number,
  end: number,
): (Omit<OutcomeKey, 'pairId'> & { pairId: string | { start: number; end: number } }) | undefined {
  if (!matchesAt(source, start, end, ITERATION)) return parseOutcomeKey(source, start, end);
  let index = start + ITERATION.length;
  let iteration = 0;
  for (; index < end && source[index] >= 0x30 && source[index] <= 0x39; index++)
    iteration = iteration * 10 + source[index] - 0x30;
  if (iteration === 0 || !matchesAt(source, index, end, PAIR_ID)) return parseOutcomeKey(source, start, end);
  const idStart = index + PAIR_ID.length;
  let idEnd = idStart;
  while (idEnd < end && source[idEnd] !== QUOTE && source[idEnd] !== BACKSLASH) idEnd++;
  // An escaped character in the id (or no closing quote): JSON.parse decodes it.
  if (!matchesAt(source, idEnd, end, STATUS)) return parseOutcomeKey(source, start, end);
  const statusStart = idEnd + STATUS.length;
  const status = STATUS_BYTES.find((candidate) => matchesAt(source, statusStart, end, candidate.bytes));
  if (!status) return parseOutcomeKey(source, start, end);
  // The id stays bytes (`FinishedPairs.addBytes`): no string per line.
  return { iteration, pairId: { start: idStart, end: idEnd }, status: status.name };
}

/** True when `source` holds `expected` at `index`, before `end`. */
function matchesAt(source: Buffer, index: number, end: number, expected: Buffer): boolean {
  return (
    index + expected.length <= end && source.compare(expected, 0, expected.length, index, index + expected.length) === 0
  );
}

function parseOutcomeKey(source: Buffer, start: number, end: number): OutcomeKey | undefined {
  let value: unknown;
  try {
    value = JSON.parse(source.toString('utf8', start, end));
  } catch {
    return undefined;
  }
  const parsed = OutcomeKeySchema.safeParse(value);
  return parsed.success
    ? { iteration: parsed.data.iteration, pairId: parsed.data.pair_id, status: parsed.data.status }
    : undefined;
}
