import { existsSync } from 'node:fs';
import { readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import type { RunConfig } from '../schemas/run-config.ts';
import { writeJsonAtomic } from '../output/write-json-atomic.ts';
import { configFingerprint } from './config-fingerprint.ts';
import { publicConfig } from './public-config.ts';

/** File names inside a run directory (see ARCHITECTURE.md, "The run, as data"). */
export const RUN_FILES = {
  config: 'config.json',
  manifest: 'manifest.json',
  plan: 'plan.jsonl',
  outcomes: 'outcomes.jsonl',
  conversations: 'conversations.jsonl',
  candidates: 'candidates.jsonl',
  /** Rows accepted beyond a `--target` share: kept, but not part of the dataset. */
  surplus: 'surplus.jsonl',
  /** How far outcomes, conversations, candidates and surplus were committed (written as the run goes): a resume reads them in full only past it. */
  checkpoint: 'resume-checkpoint.json',
  parquet: 'dataset.parquet',
  pool: (version: number) => `pool-v${version}.jsonl`,
} as const;

export interface RunDirectory {
  path: string;
  file(name: string): string;
  /** True when the directory held a run already (this is a resume). */
  resumed: boolean;
  fingerprint: string;
}

/**
 * Creates a run directory and writes `config.json`, or opens an existing one for a resume after
 * checking that the config fingerprint matches (a different config would mix two datasets).
 */
export async function openRunDirectory(path: string, config: RunConfig): Promise<RunDirectory> {
  const fingerprint = configFingerprint(config);
  const file = (name: string) => join(path, name);
  const configPath = file(RUN_FILES.config);
  if (existsSync(configPath)) {
    const stored = JSON.parse(await readFile(configPath, 'utf8')) as { fingerprint?: string };
    if (stored.fingerprint !== fingerprint) {
      throw new ConfigError(
        `cannot resume ${path}: its config fingerprint is ${stored.fingerprint}, this run's is ${fingerprint}. ` +
          'Resume with the same settings (only concurrency, timeouts, retries, budget and prices may change), ' +
          'or start a new run with a different --out or run id.',
      );
    }
    return { path, file, resumed: true, fingerprint };
  }
  await mkdir(path, { recursive: true });
  await writeJsonAtomic(configPath, { fingerprint, config: publicConfig(config) });
  return { path, file, resumed: false, fingerprint };
}
