import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Http1ConnectionPool } from '../../src/llm/http1-connection-pool.ts';
import { OpenAiHttpClient } from '../../src/llm/openai-http-client.ts';
import { ConfigError } from '../../src/errors.ts';

// A throwaway self-signed certificate for localhost / 127.0.0.1, made for these loopback tests only.
const TLS = {
  cert: readFileSync(new URL('../fixtures/tls/localhost-cert.pem', import.meta.url)),
  key: readFileSync(new URL('../fixtures/tls/localhost-key.pem', import.meta.url)),
};

const servers: Array<HttpServer | TcpServer> = [];
const pools: Http1ConnectionPool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) pool.close();
  await Promise.all(
    servers.splice(0).map((server) => {
      (server as HttpServer).closeAllConnections?.();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    }),
  );
});

async function listen<T extends HttpServer | TcpServer>(server: T): Promise<{ server: T; port: number }> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, port: (server.address() as { port: number }).port };
}

/** A raw TCP server that answers every request (read up to the end of its body) with `reply(index)` bytes. */
async function rawServer(reply: (index: number, socket: Socket) => string | undefined) {
  let index = 0;
  const sockets: Socket[] = [];
  const { port } = await listen(
    createTcpServer((socket) => {
      sockets.push(socket);
      let buffered = '';
      socket.on('data', (data) => {
        buffered += data.toString('latin1');
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered)?.[1] ?? 0);
        if (buffered.length < headEnd + 4 + length) return;
        buffered = buffered.slice(headEnd + 4 + length);
        const text = reply(index++, socket);
        if (text !== undefined) socket.write(text, 'latin1');
      });
    }),
  );
  return { port, sockets };
}

const head = (port: number, length: number) =>
  `POST /v1/x HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-length: ${length}\r\n\r\n`;

async function exchange(pool: Http1ConnectionPool, port: number, body = '{}') {
  return pool.acquire().exchange(head(port, Buffer.byteLength(body)) + body);
}

function newPool(url: string, tlsOptions?: ConstructorParameters<typeof Http1ConnectionPool>[1]) {
  const pool = new Http1ConnectionPool(new URL(url), tlsOptions);
  pools.push(pool);
  return pool;
}

describe('Http1ConnectionPool', () => {
  it('reuses one keep-alive connection for requests made one after another', async () => {
    const remotePorts: number[] = [];
    const { port } = await listen(
      createHttpServer((request, response) => {
        remotePorts.push(request.socket.remotePort!);
        request.resume();
        request.on('end', () => response.end(JSON.stringify({ n: remotePorts.length })));
      }),
    );
    const pool = newPool(`http://127.0.0.1:${port}`);
    for (let n = 1; n <= 3; n++) {
      const result = await exchange(pool, port);
      expect(result).toMatchObject({ kind: 'reply', status: 200 });
      if (result.kind === 'reply') expect(JSON.parse(result.body.toString())).toEqual({ n });
    }
    expect(new Set(remotePorts).size).toBe(1);
    expect(pool.size).toBe(1);
  });

  it('reads chunked bodies with trailers, skips 100 Continue, and lower-cases and joins repeated headers', async () => {
    const { port } = await rawServer(() =>
      [
        'HTTP/1.1 100 Continue\r\n\r\n',
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Request-Id: req_7\r\nX-Tag: a\r\nx-tag: b\r\n\r\n',
        '5\r\n{"a":\r\n',
        '3\r\n 1}\r\n',
        '0\r\nX-Trailer: t\r\n\r\n',
      ].join(''),
    );
    const result = await exchange(newPool(`http://127.0.0.1:${port}`), port);
    expect(result.kind).toBe('reply');
    if (result.kind !== 'reply') return;
    expect(result.status).toBe(200);
    expect(result.headers['x-request-id']).toBe('req_7');
    expect(result.headers['x-tag']).toBe('a, b');
    expect(JSON.parse(result.body.toString())).toEqual({ a: 1 });
  });

  it('reads a body that ends when the server closes, and does not reuse a connection the server closes', async () => {
    const { port, sockets } = await rawServer((_index, socket) => {
      socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"until":"close"}');
      return undefined;
    });
    const pool = newPool(`http://127.0.0.1:${port}`);
    const first = await exchange(pool, port);
    expect(first.kind === 'reply' && first.body.toString()).toBe('{"until":"close"}');
    const second = await exchange(pool, port);
    expect(second.kind).toBe('reply');
    expect(sockets).toHaveLength(2);
  });

  it('opens a new connection after the server drops an idle one, and closes on Connection: close', async () => {
    const { port, sockets } = await rawServer((index, socket) => {
      if (index === 1) {
        socket.end('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}');
        return undefined;
      }
      return 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}';
    });
    const pool = newPool(`http://127.0.0.1:${port}`);
    expect((await exchange(pool, port)).kind).toBe('reply');
    // The server drops the idle keep-alive connection.
    sockets[0].destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pool.size).toBe(0);
    expect((await exchange(pool, port)).kind).toBe('reply'); // index 1: connection: close
    expect((await exchange(pool, port)).kind).toBe('reply');
    expect(sockets).toHaveLength(3);
  });

  it('reports a reply cut off mid-body as broken, bytes that are not HTTP as broken, and a refused port as a connection failure', async () => {
    const { port } = await rawServer((index, socket) => {
      if (index === 0) {
        socket.end('HTTP/1.1 200 OK\r\ncontent-length: 50\r\nx-request-id: req_cut\r\n\r\n{"choi');
        return undefined;
      }
      socket.end('SSH-2.0-OpenSSH_9.2\r\n');
      return undefined;
    });
    const pool = newPool(`http://127.0.0.1:${port}`);
    const cut = await exchange(pool, port);
    expect(cut).toMatchObject({ kind: 'broken', detail: 'the reply body was cut off', headers: { 'x-request-id': 'req_cut' } });
    const garbage = await exchange(pool, port);
    expect(garbage).toMatchObject({ kind: 'broken' });
    if (garbage.kind === 'broken') expect(garbage.detail).toMatch(/not a valid HTTP reply/);

    const closed = await listen(createTcpServer());
    const freePort = closed.port;
    await new Promise<void>((resolve) => closed.server.close(() => resolve()));
    servers.pop();
    const refused = await exchange(newPool(`http://127.0.0.1:${freePort}`), freePort);
    expect(refused.kind).toBe('connection');
    if (refused.kind === 'connection') expect((refused.error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('speaks HTTPS, verifying the certificate against the CAs it is given', async () => {
    const { port } = await listen(
      createHttpsServer(TLS, (request, response) => {
        request.resume();
        request.on('end', () => response.end('{"secure":true}'));
      }),
    );
    const trusted = await exchange(newPool(`https://localhost:${port}`, { ca: TLS.cert }), port);
    expect(trusted.kind === 'reply' && trusted.body.toString()).toBe('{"secure":true}');
    const untrusted = await exchange(newPool(`https://localhost:${port}`), port);
    expect(untrusted.kind).toBe('connection');
    if (untrusted.kind === 'connection') expect((untrusted.error as NodeJS.ErrnoException).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('lets the process exit while connections sit idle in the pool', () => {
    const script = fileURLToPath(new URL('../fixtures/http-client-exit.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 10_000 });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('replied {"ok":true}');
    expect(child.status).toBe(0);
  });
});

describe('OpenAiHttpClient request headers', () => {
  it('sends host, JSON and keep-alive headers, a UTF-8 body of the right length, and Basic auth from the URL when there is no API key', async () => {
    const seen: Array<Record<string, string | string[] | undefined>> = [];
    const bodies: unknown[] = [];
    const { port } = await listen(
      createHttpServer((request, response) => {
        seen.push(request.headers);
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          response.end('{}');
        });
      }),
    );
    const client = new OpenAiHttpClient({ baseUrl: `http://user:p%40ss@127.0.0.1:${port}/v1` });
    // Multi-byte characters: content-length counts UTF-8 bytes, so the server reads the whole body.
    await client.postJson('/chat/completions', { text: 'héllo wörld 😀 — 你好' });
    client.close();
    expect(bodies).toEqual([{ text: 'héllo wörld 😀 — 你好' }]);
    expect(seen[0]).toMatchObject({
      host: `127.0.0.1:${port}`,
      'content-type': 'application/json',
      accept: 'application/json',
      connection: 'keep-alive',
      authorization: `Basic ${Buffer.from('user:p@ss').toString('base64')}`,
    });
  });

  it('refuses an API key with a line break instead of sending a corrupted request, without repeating the key', () => {
    const make = () => new OpenAiHttpClient({ baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-secret\r\nx-injected: 1' });
    expect(make).toThrow(ConfigError);
    try {
      make();
    } catch (error) {
      expect(String((error as Error).message) + JSON.stringify(error)).not.toContain('sk-secret');
    }
  });
});
