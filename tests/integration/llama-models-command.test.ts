import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDownloadProgressRenderer, registerModelsCommand } from '../../src/cli/commands/models-command.ts';
import { ConfigError } from '../../src/errors.ts';
import { ModelUnavailableError } from '../../src/llm/llama/model-unavailable-error.ts';

const MODEL_BYTES = Buffer.alloc(2_500_000, 7);

let home: string;
let server: Server | undefined;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'persona-forge-models-'));
});
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  await rm(home, { recursive: true, force: true });
});

async function serveModel(): Promise<string> {
  server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Length': MODEL_BYTES.length }).end(MODEL_BYTES);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/tiny-chat.gguf`;
}

async function runModels(args: string[], options: { tty?: boolean } = {}) {
  let stdout = '';
  let stderr = '';
  const program = new Command('persona-forge').exitOverride();
  registerModelsCommand(program, {
    env: { PERSONA_FORGE_HOME: home },
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text), isTTY: options.tty ?? false },
  });
  await program.parseAsync(['models', ...args], { from: 'user' });
  return { stdout, stderr };
}

describe('persona-forge models', () => {
  it('list: an empty cache and the default model marked as not downloaded', async () => {
    const { stdout } = await runModels(['list']);
    expect(stdout).toContain(`Models in ${join(home, 'models')}:\n  (none)`);
    expect(stdout).toContain('Default model: Qwen2.5-0.5B-Instruct Q4_K_M');
    expect(stdout).toContain('not downloaded: run `persona-forge models pull`');
  });

  it('pull downloads into $PERSONA_FORGE_HOME/models with log lines off a TTY, then list shows it', async () => {
    const url = await serveModel();
    const pulled = await runModels(['pull', url]);
    expect(pulled.stdout).toBe(`Saved ${join(home, 'models', 'tiny-chat.gguf')}\n`);
    expect(pulled.stderr).toContain(`Downloading ${url}`);
    expect(pulled.stderr).toMatch(/downloaded 100\.0% \(2\.5\/2\.5 MB, .* MB\/s, ETA 0s\)/);
    expect((await readFile(join(home, 'models', 'tiny-chat.gguf'))).length).toBe(MODEL_BYTES.length);

    const again = await runModels(['pull', url]);
    expect(again.stdout).toBe(`Already cached: ${join(home, 'models', 'tiny-chat.gguf')}\n`);

    const listed = await runModels(['list']);
    expect(listed.stdout).toContain('  tiny-chat.gguf  2.5 MB');
  });

  it('pull draws a progress bar on a TTY', async () => {
    const url = await serveModel();
    const { stderr } = await runModels(['pull', url, '--cache-dir', join(home, 'elsewhere')], { tty: true });
    expect(stderr).toContain('\r\x1b[2K[####################] 100.0%  2.5/2.5 MB');
    expect((await readFile(join(home, 'elsewhere', 'models', 'tiny-chat.gguf'))).length).toBe(MODEL_BYTES.length);
  });

  it('pull offline fails at once with ModelUnavailableError (exit 2) listing the ways forward', async () => {
    // A loopback port nothing listens on: the connection is refused, as on a machine without network.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/tiny-chat.gguf`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const failure = await runModels(['pull', url]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelUnavailableError);
    expect((failure as ModelUnavailableError).exitCode).toBe(2);
    expect((failure as Error).message).toContain('ECONNREFUSED');
    expect((failure as Error).message).toContain('--model-path FILE.gguf');
    expect((failure as Error).message).toContain(`persona-forge models pull ${url}`);
    expect((failure as Error).message).toContain('--base-url URL');
  });

  it("list marks node-llama-cpp's .ipull file as a partial download", async () => {
    await mkdir(join(home, 'models'));
    await writeFile(join(home, 'models', 'tiny-chat.gguf.ipull'), 'GGUF');
    const { stdout } = await runModels(['list']);
    expect(stdout).toContain('  tiny-chat.gguf  (partial download: `models pull` resumes it)\n');
  });

  it('pull refuses a local path', async () => {
    await expect(runModels(['pull', './model.gguf'])).rejects.toThrow(ConfigError);
  });
});

describe('createDownloadProgressRenderer', () => {
  it('redraws the bar at most every 100 ms and shows percent, MB, speed and ETA', () => {
    let output = '';
    let now = 0;
    const renderer = createDownloadProgressRenderer(
      { write: (text: string) => (output += text), isTTY: true },
      () => now,
    );
    const update = (downloadedBytes: number) =>
      renderer.update({
        downloadedBytes,
        totalBytes: 491_400_032,
        bytesPerSecond: 12_300_000,
        etaSeconds: 23,
      });
    now = 1_000;
    update(206_900_000);
    now = 1_050;
    update(207_000_000);
    renderer.finish();
    expect(output).toBe('\r\x1b[2K[########............]  42.1%  206.9/491.4 MB  12.3 MB/s  ETA 23s\n');
  });
});
