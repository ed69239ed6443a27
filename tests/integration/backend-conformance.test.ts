import { afterAll, beforeAll } from 'vitest';
import { EndpointUnreachableError, LlmError } from '../../src/errors.ts';
import { OpenAiCompatibleBackend } from '../../src/llm/openai/openai-compatible-backend.ts';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { createLlamaCppBackend } from '../../src/llm/llama/create-llama-cpp-backend.ts';
import { describeBackendConformance } from '../fixtures/backend-conformance.ts';
import { useTinyModel } from '../fixtures/tiny-model.ts';

const tinyModel = useTinyModel();

describeBackendConformance(
  'llama.cpp (tiny test model)',
  () => createLlamaCppBackend({ modelPath: tinyModel.path, threads: 1, contextSize: 512, parallelSequences: 2 }),
  {
    errorCases: [
      {
        name: 'a prompt longer than the context is an LlmError',
        request: { role: 'generator', messages: [{ role: 'user', content: 'x'.repeat(2_000) }], maxOutputTokens: 8 },
        expected: LlmError,
      },
    ],
  },
);

// The same suite over real HTTP against the OpenAI-compatible fixture server.
let fixture: FixtureServer;
beforeAll(async () => {
  fixture = await startFixtureServer();
});
afterAll(async () => fixture?.close());

describeBackendConformance(
  'openai-compatible (HTTP fixture)',
  async () => {
    return new OpenAiCompatibleBackend({ baseUrl: fixture.baseUrl, generatorModel: 'gen', criticModel: 'critic' });
  },
  {
    errorCases: [
      {
        name: 'an unreachable endpoint is an EndpointUnreachableError',
        request: { role: 'generator', messages: [{ role: 'user', content: 'hi' }] },
        expected: EndpointUnreachableError,
        backend: () =>
          new OpenAiCompatibleBackend({ baseUrl: 'http://127.0.0.1:59999/v1', generatorModel: 'g', criticModel: 'c' }),
      },
    ],
  },
);
