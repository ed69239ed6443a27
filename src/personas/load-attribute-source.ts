import { open } from 'node:fs/promises';
import type { Attribute } from '../schemas/attribute.ts';
import type { ImportSummary } from '../schemas/import-summary.ts';
import { fileStem } from './importers/build-seed-record.ts';
import { importDatasetWithNotes } from './importers/import-dataset.ts';
import { emptyImportNotes, summarizeImport } from './importers/import-notes.ts';
import { loadSeedAttributes } from './load-seed-attributes.ts';

/** Attributes read by `loadAttributeSource` and what the import skipped and repaired. */
export interface AttributeSource {
  attributes: Attribute[];
  /** Records (attribute lines or conversations) imported, repaired and skipped. */
  summary: ImportSummary;
}

/**
 * Reads attributes from either an attributes JSONL (`{"id","text","category"}` lines, e.g.
 * `seeds/attributes.jsonl` or an `expand` output) or any seed dataset `importDataset` reads, whose
 * persona sentences become attributes (`<file stem>-a<n>`, category `imported`, repeats dropped).
 * Bad lines or records are skipped and counted in `summary`; with `strict`, the first one is the
 * `InputError` naming its line.
 */
export async function loadAttributeSource(path: string, options: { strict?: boolean } = {}): Promise<AttributeSource> {
  if (await looksLikeAttributesJsonl(path)) {
    const notes = emptyImportNotes({ strict: options.strict });
    const attributes = await loadSeedAttributes(path, notes);
    return { attributes, summary: summarizeImport(notes, path, 'jsonl') };
  }
  const { dataset, summary } = await importDatasetWithNotes(path, { strict: options.strict });
  const stem = fileStem(path);
  const seen = new Set<string>();
  const attributes: Attribute[] = [];
  for (const pair of dataset.pairs) {
    for (const text of [...pair.user1.attributes, ...pair.user2.attributes]) {
      const trimmed = text.trim();
      if (trimmed.length < 3 || seen.has(trimmed)) continue;
      seen.add(trimmed);
      attributes.push({ id: `${stem}-a${attributes.length + 1}`, text: trimmed, category: 'imported' });
    }
  }
  return { attributes, summary };
}

async function looksLikeAttributesJsonl(path: string): Promise<boolean> {
  let head: string;
  try {
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(4096);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      head = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    // Missing files get the importer's "file not found" message.
    return false;
  }
  const firstLine = head.split(/\r?\n/).find((line) => line.trim() !== '' && !line.trim().startsWith('#'));
  if (!firstLine?.trim().startsWith('{')) return false;
  try {
    const record = JSON.parse(firstLine) as Record<string, unknown>;
    return typeof record.text === 'string' && !('turns' in record);
  } catch {
    // A long first line cut at 4 KiB: decide by the field names seen so far.
    return /"text"\s*:/.test(firstLine) && !/"turns"\s*:/.test(firstLine);
  }
}
