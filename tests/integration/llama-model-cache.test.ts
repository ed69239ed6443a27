import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.ts';
import { defaultCacheDir, listCachedModels, resolveModelPath } from '../../src/llm/llama/model-cache.ts';
import {
  downloadModelFile,
  type ModelDownloadProgress,
  type ModelDownloadRequest,
} from '../../src/llm/llama/download-model-file.ts';
import { parseModelReference } from '../../src/llm/llama/model-reference.ts';
import { DEFAULT_MODEL } from '../../src/llm/llama/model-registry.ts';
import { ModelUnavailableError } from '../../src/llm/llama/model-unavailable-error.ts';

// Larger than two of ipull's 5 MiB chunks, so a download runs as several ranged requests and can resume.
const MODEL_BYTES = randomBytes(12_000_000);
const MODEL_SHA256 = createHash('sha256').update(MODEL_BYTES).digest('hex');
const CHUNK_BYTES = 5 * 1024 * 1024;

/** How the file server behaves; tests change it between downloads. */
interface FileServerBehaviour {
  /** Send `Accept-Ranges: bytes` and answer `Range` requests. @defaultValue true */
  acceptRanges?: boolean;
  /** Ranged requests starting at or after this offset get 1000 bytes and then nothing (a stalled connection). */
  stallRangesFrom?: number;
  /** The first ranged request is cut after this many bytes (a dropped connection). */
  cutFirstRangeAfterBytes?: number;
}

interface FileServer {
  url: string;
  /** `<method> <Range header or ->` of every request. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves MODEL_BYTES at /model.gguf on 127.0.0.1; other paths are 404. */
async function startFileServer(behaviour: FileServerBehaviour = {}): Promise<FileServer> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(`${request.method} ${request.headers.range ?? '-'}`);
    if (request.url !== '/model.gguf') {
      response.writeHead(404).end('not found');
      return;
    }
    const acceptRanges = behaviour.acceptRanges ?? true;
    const range = acceptRanges ? /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '') : null;
    const start = range ? Number(range[1]) : 0;
    const end = range?.[2] ? Number(range[2]) + 1 : MODEL_BYTES.length;
    response.writeHead(range ? 206 : 200, {
      'Content-Length': end - start,
      ...(acceptRanges && { 'Accept-Ranges': 'bytes' }),
      ...(range && { 'Content-Range': `bytes ${start}-${end - 1}/${MODEL_BYTES.length}` }),
    });
    const body = MODEL_BYTES.subarray(start, end);
    if (range && behaviour.stallRangesFrom !== undefined && start >= behaviour.stallRangesFrom) {
      response.write(body.subarray(0, 1000));
      return;
    }
    if (range && behaviour.cutFirstRangeAfterBytes !== undefined) {
      response.write(body.subarray(0, behaviour.cutFirstRangeAfterBytes), () => response.destroy());
      behaviour.cutFirstRangeAfterBytes = undefined;
      return;
    }
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A loopback port nothing listens on: connecting to it fails at once, like a machine without network. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let cacheDir: string;
let fileServer: FileServer | undefined;
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'persona-forge-cache-'));
});
afterEach(async () => {
  await fileServer?.close();
  fileServer = undefined;
  await rm(cacheDir, { recursive: true, force: true });
});

describe('parseModelReference', () => {
  it('turns hf: references into Hugging Face resolve URLs, with an optional revision', () => {
    expect(parseModelReference('hf:Qwen/Repo-GGUF/sub/model-q4.gguf')).toEqual({
      kind: 'remote',
      reference: 'hf:Qwen/Repo-GGUF/sub/model-q4.gguf',
      url: 'https://huggingface.co/Qwen/Repo-GGUF/resolve/main/sub/model-q4.gguf',
      fileName: 'model-q4.gguf',
    });
    expect(parseModelReference(DEFAULT_MODEL.reference)).toMatchObject({
      url: `https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/9217f5db79a29953eb74d5343926648285ec7e67/${DEFAULT_MODEL.fileName}`,
      fileName: DEFAULT_MODEL.fileName,
    });
  });

  it('keeps anything else as a file path and rejects hf: references without a .gguf file', () => {
    expect(parseModelReference('./models/x.gguf')).toEqual({
      kind: 'file',
      reference: './models/x.gguf',
      path: './models/x.gguf',
    });
    expect(() => parseModelReference('hf:Qwen/Repo-GGUF')).toThrow(ConfigError);
    expect(() => parseModelReference('hf:Qwen/Repo-GGUF/readme.md')).toThrow(/hf:<user>\/<repo>\/<file>\.gguf/);
  });
});

describe('defaultCacheDir', () => {
  it('prefers PERSONA_FORGE_HOME, then XDG_CACHE_HOME/persona-forge, then ~/.cache/persona-forge', () => {
    expect(defaultCacheDir({ PERSONA_FORGE_HOME: '/data/pf', XDG_CACHE_HOME: '/xdg' }, '/home/u')).toBe('/data/pf');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/xdg' }, '/home/u')).toBe('/xdg/persona-forge');
    expect(defaultCacheDir({ PERSONA_FORGE_HOME: '', XDG_CACHE_HOME: '' }, '/home/u')).toBe(
      '/home/u/.cache/persona-forge',
    );
  });
});

describe('resolveModelPath', () => {
  it('offline: a missing hf: model whose download fails gives ModelUnavailableError with the three ways forward', async () => {
    const download = async (): Promise<never> => {
      throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND huggingface.co') });
    };
    const failure = await resolveModelPath('hf:someone/tiny-GGUF/tiny.gguf', { cacheDir, download }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ModelUnavailableError);
    const message = (failure as Error).message;
    expect(message).toContain('ENOTFOUND huggingface.co');
    expect(message).toContain('--model-path FILE.gguf');
    expect(message).toContain('persona-forge models pull hf:someone/tiny-GGUF/tiny.gguf');
    expect(message).toContain(join(cacheDir, 'models'));
    expect(message).toMatch(/--base-url URL \(or set OPENAI_BASE_URL\)/);
    expect((failure as ModelUnavailableError).exitCode).toBe(2);
  });

  it('offline: a refused connection fails at once with the reason and the three ways forward', async () => {
    const reference = `http://127.0.0.1:${await closedPort()}/tiny.gguf`;
    const failure = await resolveModelPath(reference, { cacheDir }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelUnavailableError);
    const message = (failure as Error).message;
    expect(message).toMatch(/fetch failed \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)/);
    expect(message).toContain(`persona-forge models pull ${reference}`);
    expect(message).toContain('--model-path FILE.gguf');
    expect(await listCachedModels(cacheDir)).toEqual([]);
  });

  it('uses a file already in <cacheDir>/models without downloading', async () => {
    await mkdir(join(cacheDir, 'models'), { recursive: true });
    await writeFile(join(cacheDir, 'models', 'tiny.gguf'), 'GGUF');
    const calls: ModelDownloadRequest[] = [];
    const path = await resolveModelPath('hf:someone/tiny-GGUF/tiny.gguf', {
      cacheDir,
      download: async (request) => {
        calls.push(request);
        throw new Error('must not download');
      },
    });
    expect(path).toBe(join(cacheDir, 'models', 'tiny.gguf'));
    expect(calls).toHaveLength(0);
  });

  it('passes size and SHA-256 of a known model to the downloader', async () => {
    const calls: ModelDownloadRequest[] = [];
    await resolveModelPath(DEFAULT_MODEL.reference, {
      cacheDir,
      download: async (request) => {
        calls.push(request);
        return { path: request.destinationPath, sizeBytes: DEFAULT_MODEL.sizeBytes, sha256: DEFAULT_MODEL.sha256 };
      },
    });
    expect(calls[0]).toMatchObject({
      destinationPath: join(cacheDir, 'models', DEFAULT_MODEL.fileName),
      expectedSizeBytes: 491_400_032,
      expectedSha256: DEFAULT_MODEL.sha256,
    });
  });

  it('downloads an https reference over real HTTP into the cache', async () => {
    fileServer = await startFileServer();
    const path = await resolveModelPath(`${fileServer.url}/model.gguf`, { cacheDir });
    expect(path).toBe(join(cacheDir, 'models', 'model.gguf'));
    expect((await readFile(path)).equals(MODEL_BYTES)).toBe(true);
  });

  it('a checksum mismatch is a ModelUnavailableError (exit 2) that says the download was deleted', async () => {
    fileServer = await startFileServer();
    const failure = await resolveModelPath(`${fileServer.url}/model.gguf`, {
      cacheDir,
      // As for a known model, whose size and SHA-256 are pinned in the registry.
      download: (request) => downloadModelFile({ ...request, expectedSha256: '0'.repeat(64) }),
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelUnavailableError);
    expect((failure as ModelUnavailableError).exitCode).toBe(2);
    expect((failure as Error).message).toMatch(/expected 0{64}; the download was deleted\.\nWays forward:/);
    expect(await listCachedModels(cacheDir)).toEqual([]);
  });

  it('a missing local file is a ModelUnavailableError too', async () => {
    await expect(resolveModelPath(join(cacheDir, 'nope.gguf'), { cacheDir })).rejects.toThrow(ModelUnavailableError);
  });
});

describe("downloadModelFile (node-llama-cpp's downloader, loopback HTTP server)", () => {
  it('downloads, reports progress, verifies SHA-256 and writes a sha256sum sidecar', async () => {
    fileServer = await startFileServer();
    const destinationPath = join(cacheDir, 'models', 'model.gguf');
    const progress: ModelDownloadProgress[] = [];
    const result = await downloadModelFile({
      url: `${fileServer.url}/model.gguf`,
      destinationPath,
      expectedSizeBytes: MODEL_BYTES.length,
      expectedSha256: MODEL_SHA256,
      onProgress: (update) => progress.push(update),
    });
    expect(result).toEqual({ path: destinationPath, sizeBytes: MODEL_BYTES.length, sha256: MODEL_SHA256 });
    expect((await readFile(destinationPath)).equals(MODEL_BYTES)).toBe(true);
    expect(await readFile(`${destinationPath}.sha256`, 'utf8')).toBe(`${MODEL_SHA256}  model.gguf\n`);
    expect(progress.at(-1)).toMatchObject({ downloadedBytes: MODEL_BYTES.length, totalBytes: MODEL_BYTES.length });
    expect(fileServer.requests.filter((request) => request.startsWith('GET bytes=')).length).toBeGreaterThan(1);
    await expect(stat(`${destinationPath}.ipull`)).rejects.toThrow();
  });

  it("resumes an interrupted download from node-llama-cpp's .ipull file without fetching the finished chunk again", async () => {
    const behaviour: FileServerBehaviour = { stallRangesFrom: CHUNK_BYTES };
    fileServer = await startFileServer(behaviour);
    const url = `${fileServer.url}/model.gguf`;
    const destinationPath = join(cacheDir, 'models', 'model.gguf');
    const partialPath = `${destinationPath}.ipull`;
    const controller = new AbortController();
    const first = downloadModelFile({ url, destinationPath, signal: controller.signal });
    // The progress record goes after the file's bytes once the first chunk is complete.
    await vi.waitFor(async () => expect((await stat(partialPath)).size).toBeGreaterThan(MODEL_BYTES.length), {
      timeout: 20_000,
      interval: 20,
    });
    controller.abort();
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    expect(await listCachedModels(cacheDir)).toMatchObject([{ fileName: 'model.gguf', partial: true }]);

    behaviour.stallRangesFrom = undefined;
    fileServer.requests.length = 0;
    const result = await downloadModelFile({ url, destinationPath, expectedSha256: MODEL_SHA256 });
    expect(result.sha256).toBe(MODEL_SHA256);
    const ranges = fileServer.requests.filter((request) => request.startsWith('GET bytes='));
    expect(ranges.length).toBeGreaterThan(0);
    expect(ranges.filter((request) => request.startsWith('GET bytes=0-'))).toEqual([]);
    await expect(stat(partialPath)).rejects.toThrow();
  });

  it('retries a dropped connection from the chunk it was fetching', async () => {
    fileServer = await startFileServer({ cutFirstRangeAfterBytes: 100_000 });
    const result = await downloadModelFile({
      url: `${fileServer.url}/model.gguf`,
      destinationPath: join(cacheDir, 'models', 'model.gguf'),
      expectedSha256: MODEL_SHA256,
    });
    expect(result.sha256).toBe(MODEL_SHA256);
    const ranged = fileServer.requests.filter((request) => request.startsWith('GET bytes='));
    expect(ranged.filter((request) => request === ranged[0])).toHaveLength(2);
  });

  it('ends a download that receives nothing, keeping the partial file, instead of retrying for minutes', async () => {
    fileServer = await startFileServer({ stallRangesFrom: 0 });
    const controller = new AbortController();
    await expect(
      downloadModelFile({
        url: `${fileServer.url}/model.gguf`,
        destinationPath: join(cacheDir, 'models', 'model.gguf'),
        stallTimeoutMs: 400,
        signal: controller.signal,
      }),
    ).rejects.toThrow(/^No data from .* for 0\.4 s; the partial download is kept: run it again to resume\.$/);
    expect(controller.signal.aborted).toBe(false);
    await expect(stat(join(cacheDir, 'models', 'model.gguf'))).rejects.toThrow();
  });

  it('downloads from a server without range support in one request', async () => {
    fileServer = await startFileServer({ acceptRanges: false });
    const result = await downloadModelFile({
      url: `${fileServer.url}/model.gguf`,
      destinationPath: join(cacheDir, 'models', 'model.gguf'),
      expectedSha256: MODEL_SHA256,
    });
    expect(result.sizeBytes).toBe(MODEL_BYTES.length);
    expect((await readFile(result.path)).equals(MODEL_BYTES)).toBe(true);
  });

  it('deletes the download when the SHA-256 does not match', async () => {
    fileServer = await startFileServer();
    const destinationPath = join(cacheDir, 'models', 'model.gguf');
    await expect(
      downloadModelFile({ url: `${fileServer.url}/model.gguf`, destinationPath, expectedSha256: '0'.repeat(64) }),
    ).rejects.toThrow(/SHA-256 of .* is [0-9a-f]{64}, expected 0{64}; the download was deleted/);
    await expect(stat(`${destinationPath}.ipull`)).rejects.toThrow();
    await expect(stat(destinationPath)).rejects.toThrow();
    await expect(stat(`${destinationPath}.sha256`)).rejects.toThrow();
  });

  it('refuses a remote file whose size differs from the expected size before downloading it', async () => {
    fileServer = await startFileServer();
    await expect(
      downloadModelFile({
        url: `${fileServer.url}/model.gguf`,
        destinationPath: join(cacheDir, 'models', 'model.gguf'),
        expectedSizeBytes: 123,
      }),
    ).rejects.toThrow(/offers 12000000 bytes .* expected 123/);
    expect(fileServer.requests.filter((request) => request.includes('bytes='))).toEqual([]);
  });

  it('reports HTTP errors with the status', async () => {
    fileServer = await startFileServer();
    await expect(
      downloadModelFile({
        url: `${fileServer.url}/other.gguf`,
        destinationPath: join(cacheDir, 'models', 'other.gguf'),
      }),
    ).rejects.toThrow(/HTTP 404 Not Found/);
  });
});

describe('listCachedModels', () => {
  it('lists complete GGUF files with sizes and recorded hashes, and partial (.ipull) downloads', async () => {
    fileServer = await startFileServer();
    await downloadModelFile({
      url: `${fileServer.url}/model.gguf`,
      destinationPath: join(cacheDir, 'models', 'model.gguf'),
    });
    await writeFile(join(cacheDir, 'models', 'other.gguf.ipull'), 'GGUF');
    await writeFile(join(cacheDir, 'models', 'notes.txt'), 'ignored');
    expect(await listCachedModels(cacheDir)).toEqual([
      {
        fileName: 'model.gguf',
        path: join(cacheDir, 'models', 'model.gguf'),
        sizeBytes: MODEL_BYTES.length,
        sha256: MODEL_SHA256,
        partial: false,
      },
      {
        fileName: 'other.gguf',
        path: join(cacheDir, 'models', 'other.gguf.ipull'),
        sizeBytes: undefined,
        sha256: undefined,
        partial: true,
      },
    ]);
    expect(await listCachedModels(join(cacheDir, 'missing'))).toEqual([]);
  });
});
