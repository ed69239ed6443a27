import { afterEach, expect, it } from 'vitest';
import { setMaxListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { OpenAiCompatibleBackend } from '../../src/llm/openai/openai-compatible-backend.ts';

// A finished request must leave nothing reachable behind. The openai SDK adds an 'abort' listener
// to the signal it is given and never removes it; Node keeps `AbortSignal.any`/`AbortSignal.timeout`
// signals that have listeners reachable, so handing the SDK one of those leaked ~2 KB per request
// (+439 MB per worker over a 200,000-pair BullMQ run) until the request's timeout fired.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const COMPLETION = JSON.stringify({
  id: 'x',
  object: 'chat.completion',
  created: 0,
  model: 'g',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hello' } }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

let server: Server | undefined;
let backend: OpenAiCompatibleBackend | undefined;
afterEach(async () => {
  await backend?.dispose();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

it('keeps no per-request memory after replies, with a long-lived caller signal and a long timeout', async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end(COMPLETION));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  backend = new OpenAiCompatibleBackend({
    baseUrl: `http://127.0.0.1:${port}/v1`,
    generatorModel: 'g',
    criticModel: 'c',
    timeoutMs: 600_000,
  });
  const run = new AbortController();
  setMaxListeners(100, run.signal); // 50 requests in flight listen to it
  const ask = async (count: number) => {
    for (let index = 0; index < count; index += 50) {
      await Promise.all(
        Array.from({ length: 50 }, () =>
          backend!.complete({ role: 'critic', messages: [{ role: 'user', content: 'hi' }], signal: run.signal }),
        ),
      );
    }
  };
  const heapAfterGc = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  // Warm-up: code, the connection pool and the client's own bounded state (~1 MB, reached within
  // the first few thousand requests and flat after that).
  await ask(3000);
  const before = await heapAfterGc();
  await ask(3000);
  const grownBytes = (await heapAfterGc()) - before;
  // Before the fix: ~7.9 MB for 3,000 more requests. Allow 1 MB of noise.
  expect(grownBytes, `heap grew by ${grownBytes} bytes`).toBeLessThan(1024 * 1024);
});
