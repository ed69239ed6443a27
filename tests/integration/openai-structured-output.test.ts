import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  OpenAiCompatibleBackend,
  type OpenAiCompatibleBackendOptions,
} from '../../src/llm/openai/openai-compatible-backend.ts';
import { DEFAULT_RETRY_POLICY } from '../../src/llm/retry-policy.ts';
import { completeStructured } from '../../src/llm/complete-structured.ts';
import { StructuredOutputError } from '../../src/errors.ts';
import type { CompletionRequest } from '../../src/llm/llm-backend.ts';
import { filterReplySchema } from '../../src/schemas/critic.ts';
import {
  startFixtureServer,
  type FixtureServer,
  type FixtureServerOptions,
} from '../fixtures/openai-fixture-server.ts';

let fixture: FixtureServer | undefined;

afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function setup(
  serverOptions: FixtureServerOptions = {},
  backendOptions: Partial<OpenAiCompatibleBackendOptions> = {},
) {
  fixture = await startFixtureServer(serverOptions);
  const backend = new OpenAiCompatibleBackend({
    baseUrl: fixture.baseUrl,
    generatorModel: 'fixture-generator',
    criticModel: 'fixture-critic',
    ...backendOptions,
  });
  return { fixture, backend };
}

const ToxicitySchema = filterReplySchema('toxic');

function toxicityRequest(conversation: string): CompletionRequest {
  return {
    role: 'critic',
    temperature: 0,
    messages: [
      { role: 'system', content: 'You check conversations for toxicity.' },
      { role: 'user', content: `Is this conversation toxic?\n<conversation>\n${conversation}\n</conversation>` },
    ],
  };
}

const wordCount = (text: string) => text.split(/\s+/).filter(Boolean).length;

describe('completeStructured against an OpenAI-compatible server', () => {
  it('uses response_format json_schema and returns the validated verdict', async () => {
    const { fixture, backend } = await setup();
    const toxic = await completeStructured(
      backend,
      toxicityRequest('User 1: you are zztoxiczz\nUser 2: hey'),
      ToxicitySchema,
      'critic_toxicity',
    );
    expect(toxic.value).toMatchObject({ toxic: true, confidence: 0.9 });
    const clean = await completeStructured(
      backend,
      toxicityRequest('User 1: hi\nUser 2: hello'),
      ToxicitySchema,
      'critic_toxicity',
    );
    expect(clean.value.toxic).toBe(false);
    expect(clean.usage.calls).toBe(1);
    const sent = fixture.requests[0];
    expect(sent.structuredVia).toBe('json_schema');
    expect(sent.body.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'critic_toxicity', strict: false },
    });
    expect(sent.body.response_format.json_schema.schema.required).toEqual(['rationale', 'toxic', 'confidence']);
    expect(sent.body.model).toBe('fixture-critic');
  });

  it('falls back to json_object with the schema in the system message when json_schema is rejected, and remembers it', async () => {
    const { fixture, backend } = await setup({ rejectJsonSchema: true });
    const first = await completeStructured(
      backend,
      toxicityRequest('User 1: zztoxiczz'),
      ToxicitySchema,
      'critic_toxicity',
    );
    expect(first.value.toxic).toBe(true);
    expect(first.usage.calls).toBe(2);
    expect(fixture.requests.map((request) => request.structuredVia)).toEqual(['json_schema', 'json_object']);
    const fallback = fixture.requests[1].body;
    expect(fallback.response_format).toEqual({ type: 'json_object' });
    expect(fallback.messages[0].role).toBe('system');
    expect(fallback.messages[0].content).toMatch(
      /^You check conversations for toxicity\.\n\nReply with JSON only, matching JSON schema "critic_toxicity": \{/,
    );

    const second = await completeStructured(backend, toxicityRequest('User 1: hi'), ToxicitySchema, 'critic_toxicity');
    expect(second.value.toxic).toBe(false);
    expect(second.usage.calls).toBe(1);
    expect(fixture.requests[2].structuredVia).toBe('json_object');
  });

  it('falls back to prompted JSON when json_object is rejected too', async () => {
    const { fixture, backend } = await setup({ rejectJsonSchema: true, rejectJsonObject: true });
    const result = await completeStructured(
      backend,
      toxicityRequest('User 1: zztoxiczz'),
      ToxicitySchema,
      'critic_toxicity',
    );
    expect(result.value.toxic).toBe(true);
    expect(fixture.requests.map((request) => request.structuredVia)).toEqual(['json_schema', 'json_object', 'prompt']);
    expect(fixture.requests[2].body).not.toHaveProperty('response_format');
  });

  it('does not step down in an explicit structured mode', async () => {
    const { backend } = await setup({ rejectJsonSchema: true }, { structuredMode: 'json_schema' });
    const error = await completeStructured(backend, toxicityRequest('x'), ToxicitySchema, 'critic_toxicity').catch(
      (caught) => caught,
    );
    expect(error).toMatchObject({ status: 400, retryable: false });
  });

  it('repairs a broken reply with one more call and sums usage', async () => {
    const { fixture, backend } = await setup({ malformedJson: () => 'broken-then-ok' });
    const result = await completeStructured(
      backend,
      toxicityRequest('User 1: zztoxiczz'),
      ToxicitySchema,
      'critic_toxicity',
    );
    expect(result.value.toxic).toBe(true);
    expect(result.usage.calls).toBe(2);
    expect(fixture.requests).toHaveLength(2);
    const repairMessages = fixture.requests[1].body.messages;
    expect(repairMessages.at(-2).role).toBe('assistant');
    expect(repairMessages.at(-1).content).toContain('not valid JSON');
    const promptWords = fixture.requests.reduce(
      (sum, request) =>
        sum + wordCount(request.body.messages.map((message: { content: string }) => message.content).join('\n')),
      0,
    );
    expect(result.usage.promptTokens).toBe(promptWords);
    expect(result.usage.completionTokens).toBeGreaterThan(wordCount(result.rawText));
  });

  it('throws StructuredOutputError keeping the raw text when the repair is broken too', async () => {
    const { fixture, backend } = await setup({ malformedJson: () => 'always-broken' });
    const error = await completeStructured(backend, toxicityRequest('x'), ToxicitySchema, 'critic_toxicity').catch(
      (caught) => caught,
    );
    expect(error).toBeInstanceOf(StructuredOutputError);
    expect(error.message).toContain('critic_toxicity');
    expect(error.rawText).toContain('fixture broken reply');
    expect(error.issues.length).toBeGreaterThan(0);
    // Ask + repair, then each re-ask of the retry policy (invalid_json) asks and repairs again.
    expect(fixture.requests).toHaveLength(2 * (1 + DEFAULT_RETRY_POLICY.invalidJsonRetries));
  });

  it('answers unknown schema names with a minimal valid object', async () => {
    const { backend } = await setup();
    const SummarySchema = z.object({
      title: z.string(),
      count: z.number().int(),
      tags: z.array(z.string()),
      kind: z.enum(['short', 'long']),
      done: z.boolean(),
    });
    const result = await completeStructured(
      backend,
      { role: 'critic', messages: [{ role: 'user', content: 'Summarise.' }] },
      SummarySchema,
      'summary',
    );
    expect(result.value).toEqual({ title: 'x', count: 0, tags: [], kind: 'short', done: false });
  });
});
