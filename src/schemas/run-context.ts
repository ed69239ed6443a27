import { z } from 'zod';
import { RunConfigSchema } from './run-config.ts';
import { CriticDefinitionSchema } from './critic.ts';
import { CombinedPanelSchema } from './combined-panel.ts';
import { PromptTemplateSchema } from './prompt-template.ts';

/**
 * Everything a pair job needs besides the LLM and the job itself: the same object for the
 * in-process executor and, through Redis, for BullMQ workers (which need no files).
 */
export const PairJobContextSchema = z.object({
  /** The run config; stored in Redis without `llm.api_key` (workers bring their own). */
  config: RunConfigSchema,
  /** The enabled critics, prompts included. */
  critics: z.array(CriticDefinitionSchema),
  /** The generator prompt template (text, not a path). */
  template: PromptTemplateSchema,
  /** The combined panel prompt; present exactly when `critique.panel` is `combined`. */
  panel: CombinedPanelSchema.optional(),
});
export type PairJobContext = z.infer<typeof PairJobContextSchema>;

/**
 * A run's pair-job context as the coordinator stores it in Redis
 * (`<prefix>:run:<run id>:context`). The config has no secrets.
 */
export const RunContextSchema = PairJobContextSchema.extend({
  run_id: z.string().min(1),
  /** When the coordinator stored it (ISO 8601). */
  stored_at: z.string(),
});
export type RunContext = z.infer<typeof RunContextSchema>;
