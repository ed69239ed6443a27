import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
} from '../../src/llm/model-download.ts';
import { parseModelReference } from '../../src/llm/llama/model-reference.ts';
import { DEFAULT_MODEL } from '../../src/llm/llama/model-registry.ts';
import { ModelUnavailableError } from '../../src/llm/llama/model-unavailable-error.ts';

const MODEL_BYTES = randomBytes(300_000);
const MODEL_SHA256 = createHash('sha256').update(MODEL_BYTES).digest('hex');

interface FileServer {
  url: string;
  /** `Range` header of every request, `undefined` when absent. */
  ranges: (string | undefined)[];
  close(): Promise<void>;
}

/** Serves MODEL_BYTES at /model.gguf with Range support on 127.0.0.1; other paths are 404. */
async function startFileServer(
  options: { ignoreRange?: boolean; cutFirstResponseAfterBytes?: number } = {},
): Promise<FileServer> {
  const ranges: (string | undefined)[] = [];
  let cut = options.cutFirstResponseAfterBytes;
  const server: Server = createServer((request, response) => {
    ranges.push(request.headers.range);
    if (request.url !== '/model.gguf') {
      response.writeHead(404).end('not found');
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    if (range && !options.ignoreRange) {
      const start = Number(range[1]);
      if (start >= MODEL_BYTES.length) {
        response.writeHead(416, { 'Content-Range': `bytes */${MODEL_BYTES.length}` }).end();
        return;
      }
      response.writeHead(206, {
        'Content-Length': MODEL_BYTES.length - start,
        'Content-Range': `bytes ${start}-${MODEL_BYTES.length - 1}/${MODEL_BYTES.length}`,
      });
      response.end(MODEL_BYTES.subarray(start));
      return;
    }
    if (cut !== undefined) {
      // Simulates a dropped connection: headers promise the whole file, the socket dies early.
      response.writeHead(200, { 'Content-Length': MODEL_BYTES.length });
      response.write(MODEL_BYTES.subarray(0, cut), () => response.destroy());
      cut = undefined;
      return;
    }
    response.writeHead(200, { 'Content-Length': MODEL_BYTES.length }).end(MODEL_BYTES);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ranges,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
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

  it('a missing local file is a ModelUnavailableError too', async () => {
    await expect(resolveModelPath(join(cacheDir, 'nope.gguf'), { cacheDir })).rejects.toThrow(ModelUnavailableError);
  });
});

describe('downloadModelFile (loopback HTTP server)', () => {
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
    expect(progress.at(-1)).toMatchObject({
      downloadedBytes: MODEL_BYTES.length,
      totalBytes: MODEL_BYTES.length,
      resumedFromBytes: 0,
    });
    await expect(stat(`${destinationPath}.partial`)).rejects.toThrow();
  });

  it('resumes an interrupted download with a Range request', async () => {
    fileServer = await startFileServer();
    const destinationPath = join(cacheDir, 'models', 'model.gguf');
    await mkdir(join(cacheDir, 'models'));
    await writeFile(`${destinationPath}.partial`, MODEL_BYTES.subarray(0, 120_000));
    const progress: ModelDownloadProgress[] = [];
    const result = await downloadModelFile({
      url: `${fileServer.url}/model.gguf`,
      destinationPath,
      expectedSha256: MODEL_SHA256,
      onProgress: (update) => progress.push(update),
    });
    expect(fileServer.ranges).toEqual(['bytes=120000-']);
    expect(result.sha256).toBe(MODEL_SHA256);
    expect((await readFile(destinationPath)).equals(MODEL_BYTES)).toBe(true);
    expect(progress[0].resumedFromBytes).toBe(120_000);
  });

  it('keeps the bytes of a dropped connection and resumes from them on the next attempt', async () => {
    fileServer = await startFileServer({ cutFirstResponseAfterBytes: 100_000 });
    const destinationPath = join(cacheDir, 'models', 'model.gguf');
    const url = `${fileServer.url}/model.gguf`;
    await expect(downloadModelFile({ url, destinationPath, expectedSha256: MODEL_SHA256 })).rejects.toThrow();
    const kept = (await stat(`${destinationPath}.partial`)).size;
    expect(kept).toBeGreaterThan(0);
    const result = await downloadModelFile({ url, destinationPath, expectedSha256: MODEL_SHA256 });
    expect(fileServer.ranges).toEqual([undefined, `bytes=${kept}-`]);
    expect(result.sha256).toBe(MODEL_SHA256);
  });

  it('starts over when the server ignores Range', async () => {
    fileServer = await startFileServer({ ignoreRange: true });
    const destinationPath = join(cacheDir, 'models', 'model.gguf');
    await mkdir(join(cacheDir, 'models'));
    await writeFile(`${destinationPath}.partial`, MODEL_BYTES.subarray(0, 50_000));
    const result = await downloadModelFile({
      url: `${fileServer.url}/model.gguf`,
      destinationPath,
      expectedSha256: MODEL_SHA256,
    });
    expect(result.sizeBytes).toBe(MODEL_BYTES.length);
    expect((await readFile(destinationPath)).equals(MODEL_BYTES)).toBe(true);
  });

  it('deletes the download when the SHA-256 does not match', async () => {
    fileServer = await startFileServer();
    const destinationPath = join(cacheDir, 'models', 'model.gguf');
    await expect(
      downloadModelFile({ url: `${fileServer.url}/model.gguf`, destinationPath, expectedSha256: '0'.repeat(64) }),
    ).rejects.toThrow(/SHA-256/);
    await expect(stat(`${destinationPath}.partial`)).rejects.toThrow();
    await expect(stat(destinationPath)).rejects.toThrow();
  });

  it('refuses a remote file whose size differs from the expected size before downloading it', async () => {
    fileServer = await startFileServer();
    await expect(
      downloadModelFile({
        url: `${fileServer.url}/model.gguf`,
        destinationPath: join(cacheDir, 'models', 'model.gguf'),
        expectedSizeBytes: 123,
      }),
    ).rejects.toThrow(/expected 123/);
  });

  it('reports HTTP errors with the status', async () => {
    fileServer = await startFileServer();
    await expect(
      downloadModelFile({
        url: `${fileServer.url}/other.gguf`,
        destinationPath: join(cacheDir, 'models', 'other.gguf'),
      }),
    ).rejects.toThrow(/HTTP 404/);
  });
});

describe('listCachedModels', () => {
  it('lists complete and partial GGUF files with sizes and recorded hashes', async () => {
    fileServer = await startFileServer();
    await downloadModelFile({
      url: `${fileServer.url}/model.gguf`,
      destinationPath: join(cacheDir, 'models', 'model.gguf'),
    });
    await writeFile(join(cacheDir, 'models', 'other.gguf.partial'), 'GGUF');
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
        path: join(cacheDir, 'models', 'other.gguf.partial'),
        sizeBytes: 4,
        sha256: undefined,
        partial: true,
      },
    ]);
    expect(await listCachedModels(join(cacheDir, 'missing'))).toEqual([]);
  });
});
