import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/** Progress of one download; `totalBytes`/`etaSeconds` are absent when the server sends no length. */
export interface ModelDownloadProgress {
  downloadedBytes: number;
  totalBytes: number | undefined;
  /** Average speed since this attempt started (resumed bytes excluded). */
  bytesPerSecond: number;
  etaSeconds: number | undefined;
  /** Bytes already on disk from an earlier, interrupted attempt. */
  resumedFromBytes: number;
}

export interface ModelDownloadRequest {
  url: string;
  /** Final path; bytes go to `<destinationPath>.partial` until the file is complete and verified. */
  destinationPath: string;
  /** Checked against the server's length before downloading and the file's size after. */
  expectedSizeBytes?: number;
  /** Lower-case hex SHA-256; a mismatch deletes the partial file and throws. */
  expectedSha256?: string;
  /** Called for every received chunk: throttle rendering yourself. */
  onProgress?: (progress: ModelDownloadProgress) => void;
  signal?: AbortSignal;
}

export interface ModelDownloadResult {
  path: string;
  sizeBytes: number;
  sha256: string;
}

/** Downloads one model file. The port `resolveModelPath` uses, so tests can inject a fake. */
export type ModelDownloadFunction = (request: ModelDownloadRequest) => Promise<ModelDownloadResult>;

/**
 * Downloads `url` into `<destinationPath>.partial`, resuming with an HTTP `Range` request when a
 * partial file exists, then checks size and SHA-256, writes `<destinationPath>.sha256`
 * (`sha256sum` format) and renames the file into place. Errors leave the partial file for the
 * next attempt, except a checksum mismatch, which deletes it.
 */
export async function downloadModelFile(
  request: ModelDownloadRequest,
  dependencies: { fetch?: typeof fetch; now?: () => number } = {},
): Promise<ModelDownloadResult> {
  const fetchImplementation = dependencies.fetch ?? globalThis.fetch;
  const now = dependencies.now ?? Date.now;
  const partialPath = `${request.destinationPath}.partial`;
  await mkdir(dirname(request.destinationPath), { recursive: true });

  let resumedFromBytes = await fileSize(partialPath);
  if (request.expectedSizeBytes !== undefined && resumedFromBytes > request.expectedSizeBytes) resumedFromBytes = 0;

  let response = await fetchImplementation(request.url, {
    headers: resumedFromBytes > 0 ? { Range: `bytes=${resumedFromBytes}-` } : {},
    signal: request.signal,
  });
  if (response.status === 416 && resumedFromBytes > 0) {
    // The partial file does not fit the remote file (it changed, or it is complete but unverified): start over.
    await response.body?.cancel();
    resumedFromBytes = 0;
    response = await fetchImplementation(request.url, { signal: request.signal });
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new Error(
      `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''} from ${request.url}`,
    );
  }
  // A server that ignores Range answers 200 with the whole file.
  if (response.status !== 206) resumedFromBytes = 0;

  const totalBytes = totalSizeOf(response, resumedFromBytes);
  if (request.expectedSizeBytes !== undefined && totalBytes !== undefined && totalBytes !== request.expectedSizeBytes) {
    await response.body.cancel();
    throw new Error(
      `The server offers ${totalBytes} bytes for ${request.url}, expected ${request.expectedSizeBytes}: the remote file changed.`,
    );
  }

  const hash = createHash('sha256');
  if (resumedFromBytes > 0) await hashFilePrefix(hash, partialPath, resumedFromBytes);

  const startedAt = now();
  let downloadedBytes = resumedFromBytes;
  // Each chunk is on disk before the next is read: a dropped connection keeps every received byte.
  const file = await open(partialPath, resumedFromBytes > 0 ? 'r+' : 'w');
  try {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      await file.write(chunk, 0, chunk.length, downloadedBytes);
      hash.update(chunk);
      downloadedBytes += chunk.length;
      const elapsedSeconds = Math.max((now() - startedAt) / 1000, 1e-3);
      const bytesPerSecond = (downloadedBytes - resumedFromBytes) / elapsedSeconds;
      request.onProgress?.({
        downloadedBytes,
        totalBytes,
        bytesPerSecond,
        etaSeconds:
          totalBytes !== undefined && bytesPerSecond > 0 ? (totalBytes - downloadedBytes) / bytesPerSecond : undefined,
        resumedFromBytes,
      });
    }
  } finally {
    await file.close();
  }

  const sizeBytes = await fileSize(partialPath);
  const expectedSize = request.expectedSizeBytes ?? totalBytes;
  if (expectedSize !== undefined && sizeBytes !== expectedSize) {
    throw new Error(
      `Download of ${request.url} stopped at ${sizeBytes} of ${expectedSize} bytes; run it again to resume.`,
    );
  }
  const sha256 = hash.digest('hex');
  if (request.expectedSha256 !== undefined && sha256 !== request.expectedSha256.toLowerCase()) {
    await rm(partialPath, { force: true });
    throw new Error(
      `SHA-256 of ${request.url} is ${sha256}, expected ${request.expectedSha256}; the download was deleted.`,
    );
  }
  await writeFile(`${request.destinationPath}.sha256`, `${sha256}  ${basename(request.destinationPath)}\n`);
  await rename(partialPath, request.destinationPath);
  return { path: request.destinationPath, sizeBytes, sha256 };
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function totalSizeOf(response: Response, resumedFromBytes: number): number | undefined {
  const range = /\/(\d+)\s*$/.exec(response.headers.get('content-range') ?? '');
  if (response.status === 206 && range) return Number(range[1]);
  const length = response.headers.get('content-length');
  return length === null ? undefined : Number(length) + (response.status === 206 ? resumedFromBytes : 0);
}

async function hashFilePrefix(hash: Hash, path: string, byteCount: number): Promise<void> {
  for await (const chunk of createReadStream(path, { start: 0, end: byteCount - 1 })) hash.update(chunk as Buffer);
}
