import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { parseRunConfig } from '../config/load-run-config.ts';
import { diffConfigs, formatChange } from '../config/diff-configs.ts';
import { configFingerprint } from '../pipeline/config-fingerprint.ts';
import { publicConfig } from '../pipeline/public-config.ts';
import type { RunConfig } from '../schemas/run-config.ts';

/**
 * When `<out>/<run_id>` already holds a run made with other settings, names each setting that
 * differs (old → new) in a `ConfigError`, instead of a bare fingerprint mismatch. Settings that a
 * resume may change (those outside the fingerprint) are not named. A directory without
 * `config.json`, or one with the same fingerprint (a resume), passes.
 */
export async function checkRunDirectory(config: RunConfig): Promise<void> {
  if (config.run_id === undefined) return;
  const runDir = resolve(config.out, config.run_id);
  let stored: { fingerprint?: string; config?: unknown };
  try {
    stored = JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8'));
  } catch {
    return; // no run there yet (the pipeline reports a damaged config.json itself)
  }
  const fingerprint = configFingerprint(config);
  if (stored.fingerprint === fingerprint) return;
  let storedConfig: RunConfig | undefined;
  try {
    storedConfig = parseRunConfig(stored.config);
  } catch {
    storedConfig = undefined;
  }
  const differing = storedConfig
    ? diffConfigs(publicConfig(storedConfig), publicConfig(config)).filter((change) =>
        changesFingerprint(storedConfig!, change.path, change.after),
      )
    : [];
  const named = differing.length
    ? `settings that differ: ${differing.map((change) => formatChange(change)).join(', ')}`
    : `its config fingerprint is ${stored.fingerprint}, this run's is ${fingerprint}`;
  throw new ConfigError(
    `run id ${config.run_id} is taken: ${runDir} holds a run made with other settings (${named}). ` +
      `Pick another --run-id (or --out), or continue that run with --resume ${runDir}`,
  );
}

/** True when setting just `path` to `value` changes the stored config's fingerprint (so the fingerprint stays the one rule). */
function changesFingerprint(stored: RunConfig, path: string, value: unknown): boolean {
  const changed = structuredClone(stored) as unknown as Record<string, unknown>;
  const keys = path.split('.');
  let node = changed;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  if (value === undefined) delete node[keys[keys.length - 1]];
  else node[keys[keys.length - 1]] = value;
  return configFingerprint(changed as unknown as RunConfig) !== configFingerprint(stored);
}
