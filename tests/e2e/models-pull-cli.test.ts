import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../fixtures/run-cli.ts';

const MODEL_BYTES = Buffer.alloc(3_000_000, 5);

describe('persona-forge models pull (real CLI, loopback only)', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'pf-models-pull-'));
  });
  afterAll(async () => rm(home, { recursive: true, force: true }));

  it('offline: exit 2 at once with the reason and the three ways forward, no stack trace', async () => {
    // A loopback port nothing listens on: the connection is refused, as on a machine without network.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/tiny.gguf`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const result = await runCli(['models', 'pull', url], { env: { PERSONA_FORGE_HOME: home } }).result;
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('ECONNREFUSED');
    expect(result.stderr).toContain('Ways forward:');
    expect(result.stderr).toContain('--model-path FILE.gguf');
    expect(result.stderr).toContain(`persona-forge models pull ${url}`);
    expect(result.stderr).toContain(join(home, 'models'));
    expect(result.stderr).toContain('--base-url URL');
    expect(result.stderr).not.toContain('    at ');
  });

  it("downloads through node-llama-cpp's downloader with progress lines, then finds it cached", async () => {
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Length': MODEL_BYTES.length }).end(MODEL_BYTES);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tiny.gguf`;
    try {
      const pulled = await runCli(['models', 'pull', url], { env: { PERSONA_FORGE_HOME: home } }).result;
      expect(pulled.code, pulled.stderr).toBe(0);
      expect(pulled.stderr).toContain(`Downloading ${url}`);
      expect(pulled.stderr).toMatch(/downloaded 100\.0% \(3\.0\/3\.0 MB, .* MB\/s, ETA 0s\)/);
      expect(pulled.stdout).toBe(`Saved ${join(home, 'models', 'tiny.gguf')}\n`);
      expect((await readFile(join(home, 'models', 'tiny.gguf'))).equals(MODEL_BYTES)).toBe(true);

      const listed = await runCli(['models', 'list'], { env: { PERSONA_FORGE_HOME: home } }).result;
      expect(listed.stdout).toContain('  tiny.gguf  3.0 MB\n');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
