import type { CriticDefinition } from '../schemas/critic.ts';
import type { ChatMessage, CompletionRequest, LlmBackend } from '../llm/llm-backend.ts';
import { renderCriticPrompt, type CriticPromptContext } from './render-critic-prompt.ts';

/** Sampling settings of critic calls (from `llm.critic_*` in the run config). */
export interface CriticCallOptions {
  /** Sampling temperature, 0..2; 0 gives repeatable verdicts. */
  temperature: number;
  /** Maximum output tokens of one critic reply. */
  maxOutputTokens: number;
  /** Sampling seed, for endpoints that honour it. */
  seed?: number;
}

/** What a critic call needs: the LLM port and the sampling settings. */
export interface CriticDeps {
  backend: LlmBackend;
  options: CriticCallOptions;
}

/**
 * The structured-output schema name of a critic: `critic_<name>` for filters, `pairwise_<name>` for
 * rankers. "-" in a critic name becomes "_" (schema names are letters, digits and "_").
 */
export function criticSchemaName(critic: Pick<CriticDefinition, 'name' | 'kind'>): string {
  const prefix = critic.kind === 'filter' ? 'critic' : 'pairwise';
  return `${prefix}_${critic.name.replace(/-/g, '_')}`;
}

/** The system message: the critic's role and the exact JSON reply it must produce. */
export function criticSystemMessage(
  critic: Pick<CriticDefinition, 'name' | 'kind' | 'description' | 'verdict'>,
): string {
  if (critic.kind === 'filter') {
    return [
      `You are the "${critic.name}" critic, an expert judge of persona-based conversations. ${critic.description}`,
      `Answer with JSON only: {"rationale": string, "${critic.verdict.field}": boolean, "confidence": number from 0 to 1}.`,
    ].join('\n');
  }
  return [
    `You are the "${critic.name}" critic, an expert judge comparing two persona-based conversations. ${critic.description}`,
    'Answer with JSON only: {"rationale": string, "winner": "A" or "B"}.',
  ].join('\n');
}

/** The messages sent to a critic: the system message, then the rendered body as the user message. */
export function buildCriticMessages(critic: CriticDefinition, context: CriticPromptContext): ChatMessage[] {
  return [
    { role: 'system', content: criticSystemMessage(critic) },
    { role: 'user', content: renderCriticPrompt(critic, context) },
  ];
}

/** A complete critic request (role `critic`); `completeStructured` adds the JSON schema. */
export function buildCriticRequest(
  critic: CriticDefinition,
  context: CriticPromptContext,
  options: CriticCallOptions,
): CompletionRequest {
  return criticRequest(buildCriticMessages(critic, context), options);
}

/** A request of role `critic` with the critic sampling settings: every critic and panel call is one. */
export function criticRequest(messages: ChatMessage[], options: CriticCallOptions): CompletionRequest {
  const request: CompletionRequest = {
    role: 'critic',
    messages,
    temperature: options.temperature,
    maxOutputTokens: options.maxOutputTokens,
  };
  if (options.seed !== undefined) request.seed = options.seed;
  return request;
}
