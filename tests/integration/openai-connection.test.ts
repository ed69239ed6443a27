import { afterEach, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { OpenAiCompatibleBackend } from '../../src/llm/openai/openai-compatible-backend.ts';
import { proxySettingsFromEnv } from '../../src/llm/openai/openai-connection.ts';
import { ConfigError } from '../../src/errors.ts';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { startConnectProxy, type ConnectProxy } from '../fixtures/connect-proxy.ts';

const TLS_DIR = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const TLS = { key: readFileSync(`${TLS_DIR}localhost-key.pem`), cert: readFileSync(`${TLS_DIR}localhost-cert.pem`) };
const CHILD = fileURLToPath(new URL('../fixtures/openai-request-child.ts', import.meta.url));
const COMPLETION_HEADERS = { 'content-type': 'application/json' };
const COMPLETION = JSON.stringify({
  id: 'x',
  object: 'chat.completion',
  created: 0,
  model: 'g',
  choices: [{ index: 0, message: { role: 'assistant', content: 'secure hello' } }],
});

let fixture: FixtureServer | undefined;
let proxy: ConnectProxy | undefined;
const servers: Server[] = [];
const backends: OpenAiCompatibleBackend[] = [];

afterEach(async () => {
  for (const backend of backends.splice(0)) await backend.dispose();
  await fixture?.close();
  await proxy?.close();
  fixture = proxy = undefined;
  for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
});

function backendFor(
  baseUrl: string,
  extra: Partial<ConstructorParameters<typeof OpenAiCompatibleBackend>[0]> = {},
): OpenAiCompatibleBackend {
  const backend = new OpenAiCompatibleBackend({
    baseUrl,
    generatorModel: 'g',
    criticModel: 'c',
    timeoutMs: 5_000,
    ...extra,
  });
  backends.push(backend);
  return backend;
}

const ask = (backend: OpenAiCompatibleBackend) =>
  backend.complete({ role: 'critic', messages: [{ role: 'user', content: 'hi' }] });

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

describe('OpenAiConnection (openai SDK on undici)', () => {
  it('sends the key as a bearer token, JSON in and out, and reuses keep-alive connections', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const remotePorts = new Set<number>();
    const port = await listen(
      createHttpServer((request, response) => {
        seen.push(request.headers);
        remotePorts.add(request.socket.remotePort ?? 0);
        request.resume();
        request.on('end', () =>
          response
            .writeHead(200, { ...COMPLETION_HEADERS, 'content-length': Buffer.byteLength(COMPLETION) })
            .end(COMPLETION),
        );
      }),
    );
    const backend = backendFor(`http://127.0.0.1:${port}/v1`, { apiKey: 'sk-test-key' });
    for (let index = 0; index < 6; index++) expect((await ask(backend)).texts).toEqual(['secure hello']);
    expect(seen[0]).toMatchObject({
      authorization: 'Bearer sk-test-key',
      'content-type': 'application/json',
      'user-agent': 'persona-forge',
    });
    // undici frees a connection a moment after the body is read, so the next request may open a
    // second one; from then on the two take turns.
    expect(remotePorts.size).toBeLessThanOrEqual(2);
  });

  it('turns credentials in the base URL into Basic auth when there is no API key', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const port = await listen(
      createHttpServer((request, response) => {
        seen.push(request.headers);
        request.resume();
        request.on('end', () =>
          response
            .writeHead(200, { ...COMPLETION_HEADERS, 'content-length': Buffer.byteLength(COMPLETION) })
            .end(COMPLETION),
        );
      }),
    );
    await ask(backendFor(`http://user:p%40ss@127.0.0.1:${port}/v1`));
    expect(seen[0].authorization).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });

  it('refuses an API key with a line break, without repeating the key', () => {
    const make = () => backendFor('http://127.0.0.1:9/v1', { apiKey: 'sk-secret\r\nx-injected: 1' });
    expect(make).toThrow(ConfigError);
    try {
      make();
    } catch (error) {
      expect(String((error as Error).message) + JSON.stringify(error)).not.toContain('sk-secret');
    }
  });

  it('goes through the proxy named in HTTP_PROXY, and around it for hosts in NO_PROXY', async () => {
    fixture = await startFixtureServer();
    proxy = await startConnectProxy();
    const host = new URL(fixture.baseUrl).host;

    await ask(backendFor(fixture.baseUrl, { proxy: { httpProxy: proxy.url } }));
    expect(proxy.targets).toEqual([host]);
    await ask(backendFor(fixture.baseUrl, { proxy: { httpProxy: proxy.url, noProxy: 'example.com, 127.0.0.1' } }));
    expect(proxy.targets).toEqual([host]);
    expect(fixture.requests).toHaveLength(2);
  });

  it('reads HTTP_PROXY / HTTPS_PROXY / NO_PROXY from the environment (lower case first, as curl)', async () => {
    expect(
      proxySettingsFromEnv({
        HTTP_PROXY: 'http://a:1',
        https_proxy: 'http://b:2',
        HTTPS_PROXY: 'http://c:3',
        NO_PROXY: 'x',
      }),
    ).toEqual({
      httpProxy: 'http://a:1',
      httpsProxy: 'http://b:2',
      noProxy: 'x',
    });
    // Without explicit settings undici's EnvHttpProxyAgent reads the variables itself.
    fixture = await startFixtureServer();
    proxy = await startConnectProxy();
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };
    process.env.HTTP_PROXY = proxy.url;
    delete process.env.NO_PROXY;
    try {
      await ask(backendFor(fixture.baseUrl));
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    expect(proxy.targets).toEqual([new URL(fixture.baseUrl).host]);
  });

  it('trusts a private CA given in NODE_EXTRA_CA_CERTS, and the process exits with idle connections open', async () => {
    const port = await listen(
      createHttpsServer(TLS, (request, response) => {
        request.resume();
        request.on('end', () =>
          response
            .writeHead(200, { ...COMPLETION_HEADERS, 'content-length': Buffer.byteLength(COMPLETION) })
            .end(COMPLETION),
        );
      }),
    );
    // Async: the server lives in this process. A child that does not exit is killed at 20 s (an error).
    const run = (env: Record<string, string>) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, `https://localhost:${port}/v1`], {
        encoding: 'utf8',
        timeout: 20_000,
        env: { ...process.env, ...env },
      });
    const [trusted, withoutCa] = await Promise.all([
      run({ NODE_EXTRA_CA_CERTS: `${TLS_DIR}localhost-cert.pem` }),
      run({ NODE_EXTRA_CA_CERTS: '' }),
    ]);
    expect(trusted.stdout.trim()).toBe('replied secure hello');
    expect(withoutCa.stdout).toMatch(/^failed .*(self.signed|certificate)/i);
  });
});
