import { PoolRecordSchema, type PoolRecord } from '../schemas/conversation.ts';
import { loadJsonlRecords } from './load-seed-attributes.ts';

const CONVERSATION_EXAMPLE =
  '{"id":"seed-001","user1_persona":["I have a dog."],"user2_persona":["I love jazz."],' +
  '"turns":[{"speaker":"User 1","text":"Hi! How are you?"},{"speaker":"User 2","text":"Great, just got back from a concert."}]}';

/**
 * Reads a seed conversations file (JSONL, one `PoolRecord` per line): the initial few-shot pool.
 * Blank lines and lines starting with `#` are skipped; `source`, `iteration` and `score` default to
 * `seed`, 0 and 0. Turns must alternate `User 1` / `User 2`, starting with `User 1`.
 * An empty file is allowed (zero-shot generation).
 * @throws InputError naming the file and 1-based line for a missing file, invalid JSON, a field
 *   that does not match `PoolRecordSchema`, turns that do not alternate, or a duplicate id.
 */
export async function loadSeedConversations(path: string): Promise<PoolRecord[]> {
  return loadJsonlRecords(path, {
    schema: PoolRecordSchema,
    example: CONVERSATION_EXAMPLE,
    configKey: 'seeds.conversations',
    check: findAlternationProblem,
  });
}

function findAlternationProblem(record: PoolRecord): string | undefined {
  for (let index = 0; index < record.turns.length; index++) {
    const expected = index % 2 === 0 ? 'User 1' : 'User 2';
    if (record.turns[index].speaker !== expected) {
      return `field "turns[${index}].speaker": expected "${expected}" (turns alternate "User 1" / "User 2", starting with "User 1")`;
    }
  }
  return undefined;
}
