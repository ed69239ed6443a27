import { existsSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { ResumeCheckpointSchema, type ResumeCheckpoint, type RunFileMark } from '../schemas/resume-checkpoint.ts';
import { RUN_FILES, type RunDirectory } from './run-directory.ts';

/** The run files a checkpoint marks, by their key in `ResumeCheckpoint.files`. */
export const CHECKPOINTED_FILES = ['outcomes', 'conversations', 'candidates', 'surplus'] as const;
export type CheckpointedFile = (typeof CHECKPOINTED_FILES)[number];

/**
 * The run directory's `resume-checkpoint.json` when a resume can trust it: it parses, has one
 * tally per iteration, counts no failed pair, and every file holds at least what its mark covers,
 * with a line ending right at the mark. Anything else (no checkpoint, a run from before them, a
 * file shortened or replaced since) gives undefined: the resume reads every file in full.
 */
export async function readResumeCheckpoint(
  runDir: RunDirectory,
  iterations: number,
): Promise<ResumeCheckpoint | undefined> {
  const path = runDir.file(RUN_FILES.checkpoint);
  if (!existsSync(path)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
  const parsed = ResumeCheckpointSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const checkpoint = parsed.data;
  if (checkpoint.failed_pairs > 0 || checkpoint.iterations.length !== iterations) return undefined;
  if (checkpoint.iterations.some((tally, index) => tally.iteration !== index + 1)) return undefined;
  for (const name of CHECKPOINTED_FILES) {
    if (!(await endsALineAt(runDir.file(RUN_FILES[name]), checkpoint.files[name]))) return undefined;
  }
  return checkpoint;
}

/** True when `path` is at least `mark.bytes` long and its byte before the mark is a newline. */
async function endsALineAt(path: string, mark: RunFileMark): Promise<boolean> {
  if (mark.bytes === 0) return true;
  if (!existsSync(path) || (await stat(path)).size < mark.bytes) return false;
  const handle = await open(path, 'r');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, mark.bytes - 1);
    return byte[0] === 0x0a;
  } finally {
    await handle.close();
  }
}
