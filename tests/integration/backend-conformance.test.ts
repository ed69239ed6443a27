import { LlmError } from '../../src/llm/errors.ts';
import { createLlamaCppBackend } from '../../src/llm/llama-cpp-backend.ts';
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
