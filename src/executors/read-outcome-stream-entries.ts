import type { Redis } from 'ioredis';

/** One entry of a run's outcome stream (see `RunKeys.outcomes`), not yet decoded. */
export interface OutcomeStreamEntry {
  /** Redis stream entry id, e.g. `1700000000000-0`. */
  entryId: string;
  /** The `job` field: the BullMQ job id the outcome belongs to. */
  jobId: string | undefined;
  /** The `o` field: the encoded `PairOutcome` (`decodeOutcome` reads it). */
  encodedOutcome: Buffer;
}

/**
 * Up to 100 entries of the stream `streamKey` after `afterEntryId`, oldest first. With `blockMs`
 * the call waits up to that many ms for an entry (so use a dedicated connection); without it,
 * it returns at once. Entries are left in the stream.
 */
export async function readOutcomeStreamEntries(
  reader: Redis,
  streamKey: string,
  afterEntryId: string,
  blockMs: number | undefined,
): Promise<OutcomeStreamEntry[]> {
  const args: Array<string | number> = [
    'COUNT',
    100,
    ...(blockMs === undefined ? [] : ['BLOCK', blockMs]),
    'STREAMS',
    streamKey,
    afterEntryId,
  ];
  const reply = (await (reader.xreadBuffer as (...a: Array<string | number>) => Promise<unknown>)(...args)) as Array<
    [Buffer, Array<[Buffer, Buffer[]]>]
  > | null;
  const entries = reply?.[0]?.[1] ?? [];
  return entries.map(([rawId, fields]) => {
    const field = (name: string) =>
      fields[fields.findIndex((item, index) => index % 2 === 0 && item.toString() === name) + 1];
    return { entryId: rawId.toString(), jobId: field('job')?.toString(), encodedOutcome: field('o') };
  });
}
