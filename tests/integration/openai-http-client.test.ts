import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { OpenAiHttpClient } from '../../src/llm/openai-http-client.ts';
import { LlmError } from '../../src/errors.ts';

type Handler = (request: IncomingMessage, response: ServerResponse, body: string, index: number) => void;

let server: Server | undefined;
let client: OpenAiHttpClient | undefined;
afterEach(async () => {
  client?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  client = undefined;
});

/** A loopback server answering request i with handlers[min(i, last)]; returns the received requests. */
async function serve(handlers: Handler[], options: { retries?: number; timeoutMs?: number; apiKey?: string } = {}) {
  const received: Array<{ url: string; headers: IncomingMessage['headers']; body: string }> = [];
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ url: request.url ?? '', headers: request.headers, body });
      const index = received.length - 1;
      handlers[Math.min(index, handlers.length - 1)](request, response, body, index);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  client = new OpenAiHttpClient({
    baseUrl: `http://127.0.0.1:${port}/v1/`,
    apiKey: options.apiKey ?? 'sk-client-secret',
    maxRetries: options.retries ?? 2,
    timeoutMs: options.timeoutMs ?? 5_000,
    random: () => 0,
  });
  return { client, received };
}

const json = (status: number, value: unknown, headers: Record<string, string> = {}): Handler => (_request, response) => {
  response.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req_42', ...headers });
  response.end(JSON.stringify(value));
};

describe('OpenAiHttpClient', () => {
  it('POSTs JSON under the base path with the key as a bearer token and returns the body and request id', async () => {
    const { client, received } = await serve([json(200, { ok: true })]);
    const reply = await client.postJson('/chat/completions', { model: 'm', messages: [] });
    expect(reply).toEqual({ body: { ok: true }, requestId: 'req_42' });
    expect(received[0].url).toBe('/v1/chat/completions');
    expect(received[0].headers.authorization).toBe('Bearer sk-client-secret');
    expect(received[0].headers['content-type']).toBe('application/json');
    expect(JSON.parse(received[0].body)).toEqual({ model: 'm', messages: [] });
  });

  it('decodes a gzip reply the server compressed on its own', async () => {
    const { client } = await serve([
      (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        response.end(gzipSync(JSON.stringify({ zipped: 'yes' })));
      },
    ]);
    expect((await client.postJson('/x', {})).body).toEqual({ zipped: 'yes' });
  });

  it('retries a 503, then a body cut off mid-way, then succeeds on the same budget', async () => {
    const { client, received } = await serve(
      [
        json(503, { error: { message: 'overloaded' } }),
        (_request, response) => {
          response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
          response.write('{"choices": [');
          response.socket?.destroy();
        },
        json(200, { third: true }),
      ],
      { retries: 2 },
    );
    expect((await client.postJson('/x', {})).body).toEqual({ third: true });
    expect(received).toHaveLength(3);
  });

  it('honours x-should-retry: false on a 500 and true on a 400', async () => {
    const noRetry = await serve([json(500, { error: { message: 'do not' } }, { 'x-should-retry': 'false' })]);
    const error = await noRetry.client.postJson('/x', {}).catch((caught) => caught);
    expect(error).toMatchObject({ status: 500, retryable: true, requestId: 'req_42' });
    expect(error.message).toContain('answered 500 do not');
    expect(noRetry.received).toHaveLength(1);
    client!.close();
    await new Promise<void>((resolve) => server!.close(() => resolve()));

    const retry = await serve([json(400, { error: { message: 'again' } }, { 'x-should-retry': 'true' }), json(200, { ok: 1 })]);
    expect((await retry.client.postJson('/x', {})).body).toEqual({ ok: 1 });
    expect(retry.received).toHaveLength(2);
  });

  it('does not retry a 400, and never puts the key in the message even when the server echoes it', async () => {
    const { client, received } = await serve([
      json(400, { error: { message: 'Invalid key sk-client-secret for model' } }),
    ]);
    const error = await client.postJson('/x', {}).catch((caught) => caught);
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ status: 400, retryable: false });
    expect(error.message).toContain('[redacted]');
    expect(error.message).not.toContain('sk-client-secret');
    expect(received).toHaveLength(1);
  });

  it('maps a 2xx that is not JSON to a retryable malformed-reply error after the retries', async () => {
    const { client, received } = await serve([(_request, response) => response.end('<html>proxy error</html>')], { retries: 1 });
    const error = await client.postJson('/x', {}).catch((caught) => caught);
    expect(error).toMatchObject({ retryable: true });
    expect(error.message).toMatch(/malformed response \(not JSON/);
    expect(received).toHaveLength(2);
  });

  it('stops at once when the caller aborts, also while waiting to retry', async () => {
    const hanging = await serve([() => {}], { retries: 0 });
    const controller = new AbortController();
    const pending = hanging.client.postJson('/x', {}, controller.signal).catch((caught) => caught);
    setTimeout(() => controller.abort(), 50);
    const error = await pending;
    expect(error).toMatchObject({ retryable: false });
    expect(error.message).toBe('LLM request was aborted.');
    client!.close();
    await new Promise<void>((resolve) => server!.close(() => resolve()));

    const slowRetry = await serve([json(429, {}, { 'retry-after': '30' })], { retries: 2 });
    const later = new AbortController();
    const started = Date.now();
    const waiting = slowRetry.client.postJson('/x', {}, later.signal).catch((caught) => caught);
    setTimeout(() => later.abort(), 100);
    expect((await waiting).message).toBe('LLM request was aborted.');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
