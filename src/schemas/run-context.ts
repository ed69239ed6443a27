import { z } from 'zod';
import { RunConfigSchema } from './run-config.ts';
import { CriticDefinitionSchema } from './critic.ts';

/**
 * Everything a BullMQ worker needs to run any pair job of one run, stored in Redis by the
 * coordinator (`<prefix>:run:<run id>:context`) so worker containers need no files.
 * The config has no secrets: workers bring their own endpoint and API key.
 */
export const RunContextSchema = z.object({
  run_id: z.string().min(1),
  /** The run config without `llm.api_key`. */
  config: RunConfigSchema,
  /** The enabled critics, prompts included. */
  critics: z.array(CriticDefinitionSchema),
  /** The generator prompt template (text, not a path). */
  template: z.object({
    system: z.string(),
    body: z.string(),
    hash: z.string(),
    sourcePath: z.string(),
  }),
  /** When the coordinator stored it (ISO 8601). */
  stored_at: z.string(),
});
export type RunContext = z.infer<typeof RunContextSchema>;
