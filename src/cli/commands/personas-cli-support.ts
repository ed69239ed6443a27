import { ConfigError } from '../../errors.ts';
import type { Embedder } from '../../llm/embedders/embedder.ts';
import { createEmbedder } from '../../llm/embedders/create-embedder.ts';
import { loadRunConfig } from '../../config/load-run-config.ts';
import type { RunConfig } from '../../schemas/run-config.ts';
import { PersonasConfigSchema, type PersonasConfig, type PersonasConfigInput } from '../../schemas/personas-config.ts';

/** Flags shared by `expand` and `profiles`: the LLM endpoint and the embedder. */
export interface PersonasCliFlags {
  baseUrl?: string;
  model?: string;
  modelPath?: string;
  config?: string;
  seed?: number;
  embedder?: 'lexical' | 'openai' | 'local';
  embeddingModel?: string;
  embeddingBaseUrl?: string;
}

/** The run config (for the LLM backend) and the personas settings: flags > env > config file > defaults. */
export async function loadPersonasCliConfig(
  flags: PersonasCliFlags,
  personasFlags: PersonasConfigInput,
): Promise<{ config: RunConfig; personas: PersonasConfig }> {
  const config = await loadRunConfig({
    configFile: flags.config,
    env: process.env,
    flags: {
      seed: flags.seed,
      llm: {
        base_url: flags.baseUrl,
        model: flags.model,
        model_path: flags.modelPath,
        ...(flags.baseUrl ? { provider: 'openai' as const } : flags.modelPath ? { provider: 'local' as const } : {}),
      },
    },
  });
  // The run's `personas.mode` (simple / synthesize / seed-pairs) is about runs; these commands
  // always build profiles, and the contradiction check follows `profiles.contradiction_check`.
  const { mode: _runMode, pool_from_source: _poolFromSource, ...runPersonas } = config.personas;
  const fromConfig: PersonasConfigInput = { ...runPersonas, consistency_check: config.profiles.contradiction_check };
  const defined = <T extends object>(value: T) =>
    Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined));
  const merged = {
    ...fromConfig,
    ...defined(personasFlags),
    embedder: {
      ...(fromConfig.embedder ?? {}),
      ...defined({ kind: flags.embedder, model: flags.embeddingModel, base_url: flags.embeddingBaseUrl }),
    },
  };
  const parsed = PersonasConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(
      'invalid personas settings:',
      parsed.error.issues.map((issue) => `personas.${issue.path.join('.')}: ${issue.message}`),
    );
  }
  return { config, personas: parsed.data };
}

export function createCliEmbedder(config: RunConfig, personas: PersonasConfig): Promise<Embedder> {
  return createEmbedder(personas.embedder, {
    baseUrl: config.llm.base_url,
    apiKey: config.llm.api_key,
    threads: config.llm.threads,
  });
}

/** A progress line on stderr, at most every `intervalMs` per phase (always at phase ends). */
export function createProgressPrinter(
  intervalMs = 1000,
): (phase: string, done: number, total: number, extra?: string) => void {
  let lastPhase = '';
  let lastAt = 0;
  return (phase, done, total, extra = '') => {
    const now = Date.now();
    if (phase === lastPhase && done < total && now - lastAt < intervalMs) return;
    lastPhase = phase;
    lastAt = now;
    process.stderr.write(`[${phase}] ${done}/${total}${extra ? ` ${extra}` : ''}\n`);
  };
}
