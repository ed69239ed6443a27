import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.ts';
import { RunConfigSchema, type RunConfig, type RunConfigInput } from '../schemas/run-config.ts';
import { deepMerge } from './deep-merge.ts';
import { runsOnLocalModel } from '../llm/llama/local-model-defaults.ts';
import { closestName } from './closest-name.ts';
import { knownKeysAt } from './known-keys-at.ts';

export interface ConfigSources {
  /** Values from command-line flags (highest precedence). Undefined values are ignored. */
  flags?: RunConfigInput;
  /** Environment variables; only `OPENAI_BASE_URL` and `OPENAI_API_KEY` are read. */
  env?: Record<string, string | undefined>;
  /** A YAML or JSON config file. */
  configFile?: string;
  /**
   * Defaults of runs on the embedded model (the CLI passes `LOCAL_MODEL_DEFAULTS`), a layer below
   * the config file, applied when the merged config runs on the local model (`runsOnLocalModel`).
   */
  localModelDefaults?: RunConfigInput | ((merged: RunConfigInput) => RunConfigInput);
}

/** Reads a YAML or JSON config file into a raw object; errors name the file. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new ConfigError(`cannot read config file ${path}: check the path given to --config`);
  }
  let value: unknown;
  try {
    value = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError(
      `config file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
    );
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(
      `config file ${path} must contain a mapping of settings (e.g. "pairs: 10"), not ${Array.isArray(value) ? 'a list' : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}

/** Validates a raw config object; every bad field is listed in one `ConfigError`. */
export function parseRunConfig(raw: unknown, origin = 'config'): RunConfig {
  const parsed = RunConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => unknownKeyProblem(issue.path, key));
    const path = issue.path.join('.') || '(root)';
    // Never echo a secret's value back.
    return [`${path}: ${issue.message}`];
  });
  throw new ConfigError(`invalid ${origin}:`, problems);
}

/** `llm.modle: unknown key; did you mean "model"?` (or the keys allowed there, when nothing is close). */
function unknownKeyProblem(path: readonly PropertyKey[], key: string): string {
  const known = knownKeysAt(RunConfigSchema, path);
  const suggestion = closestName(key, known);
  const where = [...path, key].join('.');
  if (suggestion) return `${where}: unknown key; did you mean "${suggestion}"?`;
  return `${where}: unknown key; remove it${known.length ? ` (keys allowed here: ${known.join(', ')})` : ''}`;
}

/** Builds the run config with precedence flags > env > config file > defaults. */
export async function loadRunConfig(sources: ConfigSources): Promise<RunConfig> {
  const fromFile = sources.configFile ? await readConfigFile(sources.configFile) : {};
  const env = sources.env ?? {};
  const fromEnv: RunConfigInput = {
    llm: {
      ...(env.OPENAI_BASE_URL ? { base_url: env.OPENAI_BASE_URL } : {}),
      ...(env.OPENAI_API_KEY ? { api_key: env.OPENAI_API_KEY } : {}),
    },
  };
  let merged = deepMerge(deepMerge(fromFile, fromEnv), sources.flags ?? {});
  if (sources.localModelDefaults && runsOnLocalModel(merged as RunConfigInput)) {
    const defaults =
      typeof sources.localModelDefaults === 'function'
        ? sources.localModelDefaults(merged as RunConfigInput)
        : sources.localModelDefaults;
    merged = deepMerge(defaults as Record<string, unknown>, merged);
  }
  return parseRunConfig(merged, sources.configFile ? `config (from ${sources.configFile}, env and flags)` : 'config');
}
