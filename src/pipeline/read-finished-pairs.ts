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
    (bytes) => {
      if (!usable || bytes.length === 0) return;
      const key = readOutcomeKey(bytes);
      if (!key || key.status === 'failed') usable = false;
      else done.add(key.iteration, key.pairId);
    },
    { to: endOffset, stats },
  );
  return usable;
}

/**
 * The key of an outcome line. The run writes each line with `iteration`, `pair_id` and `status`
 * first (`JSON.stringify` keeps the order the line is built in), so the key is read from the
 * line's first bytes without parsing the rest, the usage and counts a checkpoint already holds;
 * a line in any other shape is parsed and validated in full.
 */
export function readOutcomeKey(bytes: Buffer): OutcomeKey | undefined {
  let index = ITERATION.length;
  if (!matchesAt(bytes, 0, ITERATION)) return parseOutcomeKey(bytes);
  let iteration = 0;
  for (; index < bytes.length && bytes[index] >= 0x30 && bytes[index] <= 0x39; index++)
    iteration = iteration * 10 + bytes[index] - 0x30;
  if (iteration === 0 || !matchesAt(bytes, index, PAIR_ID)) return parseOutcomeKey(bytes);
  const idStart = index + PAIR_ID.length;
  const idEnd = bytes.indexOf(QUOTE, idStart);
  // An escaped character in the id: JSON.parse decodes it.
  if (idEnd === -1 || bytes.subarray(idStart, idEnd).includes(BACKSLASH)) return parseOutcomeKey(bytes);
  if (!matchesAt(bytes, idEnd, STATUS)) return parseOutcomeKey(bytes);
  const statusStart = idEnd + STATUS.length;
  const status = STATUS_BYTES.find((candidate) => matchesAt(bytes, statusStart, candidate.bytes));
  if (!status) return parseOutcomeKey(bytes);
  return { iteration, pairId: bytes.toString('utf8', idStart, idEnd), status: status.name };
}

/** True when `bytes` holds `expected` at `index`. */
function matchesAt(bytes: Buffer, index: number, expected: Buffer): boolean {
  return (
    index + expected.length <= bytes.length &&
    bytes.compare(expected, 0, expected.length, index, index + expected.length) === 0
  );
}

function parseOutcomeKey(bytes: Buffer): OutcomeKey | undefined {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = OutcomeKeySchema.safeParse(value);
  return parsed.success
    ? { iteration: parsed.data.iteration, pairId: parsed.data.pair_id, status: parsed.data.status }
    : undefined;
}
