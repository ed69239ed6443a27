import { createHash } from 'node:crypto';

/** sha256 of a text as hex, shortened to `length` chars (12 by default: for lineage and ids). */
export function hashText(text: string, length = 12): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}
