import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat, truncate, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ModelDownloader } from 'node-llama-cpp';
import { loadNodeLlamaCpp } from './llama-module.ts';

/** Progress of one download; `totalBytes`/`etaSeconds` are absent when they are not known yet. */
export interface ModelDownloadProgress {
  downloadedBytes: number;
  totalBytes: number | undefined;
  bytesPerSecond: number;
  etaSeconds: number | undefined;
}

export interface ModelDownloadRequest {
  url: string;
  /** Final path; node-llama-cpp's downloader writes `<destinationPath>.ipull` until the file is complete. */
  destinationPath: string;
  /** Checked against the server's length before downloading. */
  expectedSizeBytes?: number;
  /** Lower-case hex SHA-256; a mismatch deletes the downloaded file and throws. */
  expectedSha256?: string;
  onProgress?: (progress: ModelDownloadProgress) => void;
  /** Aborting keeps the `.ipull` file, so the next download resumes it. */
  signal?: AbortSignal;
  /** No byte for this long ends the download (partial file kept). @defaultValue 60 000 */
  stallTimeoutMs?: number;
}

export interface ModelDownloadResult {
  path: string;
  sizeBytes: number;
  sha256: string;
}

/** Downloads one model file. The port `resolveModelPath` uses, so tests can inject a fake. */
export type ModelDownloadFunction = (request: ModelDownloadRequest) => Promise<ModelDownloadResult>;

/** The extension of node-llama-cpp's (ipull's) resumable partial file: data, then its progress record. */
export const PARTIAL_DOWNLOAD_EXTENSION = '.ipull';

/**
 * Downloads `url` with node-llama-cpp's `createModelDownloader` (ipull: parallel ranged requests,
 * a resumable `<destinationPath>.ipull` file), then checks SHA-256 and writes
 * `<destinationPath>.sha256` (`sha256sum` format). A checksum mismatch deletes the file.
 *
 * One HEAD request goes first: ipull retries a connection error 150 times (about ten minutes)
 * and node-llama-cpp does not expose that setting, so without it an offline machine would wait
 * that long for the "ways forward" message instead of failing at once.
 */
export async function downloadModelFile(request: ModelDownloadRequest): Promise<ModelDownloadResult> {
  await checkReachable(request.url, request.signal);
  const { createModelDownloader } = await loadNodeLlamaCpp();
  let bytesPerSecond = 0;
  const downloader = await createModelDownloader({
    modelUri: request.url,
    dirPath: dirname(request.destinationPath),
    fileName: basename(request.destinationPath),
    deleteTempFileOnCancel: false,
    onProgress: (status) => {
      const progress = toProgress(status);
      bytesPerSecond = progress.bytesPerSecond;
      request.onProgress?.(progress);
    },
  });
  const remoteSize = downloader.totalSize;
  if (request.expectedSizeBytes !== undefined && remoteSize > 0 && remoteSize !== request.expectedSizeBytes) {
    // The partial file belongs to a remote file that changed: useless for a resume.
    await downloader.cancel({ deleteTempFile: true });
    throw new Error(
      `The server offers ${remoteSize} bytes for ${request.url}, expected ${request.expectedSizeBytes}: the remote file changed.`,
    );
  }
  const path = await downloadUntilStalled(downloader, request);
  let sizeBytes = (await stat(path)).size;
  if (remoteSize > 0 && sizeBytes > remoteSize) {
    // Seen under load after a dropped ranged request: ipull resolved with its progress record still
    // appended after the data. The data comes first, so cut the file to the remote size; the SHA-256
    // check below still decides whether the file is kept.
    await truncate(path, remoteSize);
    sizeBytes = remoteSize;
  }
  if (remoteSize > 0 && sizeBytes !== remoteSize) {
    throw new Error(`Download of ${request.url} stopped at ${sizeBytes} of ${remoteSize} bytes; run it again.`);
  }
  request.onProgress?.({ downloadedBytes: sizeBytes, totalBytes: sizeBytes, bytesPerSecond, etaSeconds: 0 });

  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  const sha256 = hash.digest('hex');
  if (request.expectedSha256 !== undefined && sha256 !== request.expectedSha256.toLowerCase()) {
    await rm(path, { force: true });
    throw new Error(
      `SHA-256 of ${request.url} is ${sha256}, expected ${request.expectedSha256}; the download was deleted.`,
    );
  }
  await writeFile(`${path}.sha256`, `${sha256}  ${basename(path)}\n`);
  return { path, sizeBytes, sha256 };
}

/**
 * Runs the download and ends it, keeping the partial file, when no byte arrives for
 * `stallTimeoutMs`: ipull would retry a lost network for about ten minutes behind a frozen progress line.
 */
async function downloadUntilStalled(downloader: ModelDownloader, request: ModelDownloadRequest): Promise<string> {
  const stallTimeoutMs = request.stallTimeoutMs ?? 60_000;
  const stop = new AbortController();
  const forwardAbort = () => stop.abort(request.signal?.reason);
  request.signal?.addEventListener('abort', forwardAbort, { once: true });
  let stalled = false;
  let lastSize = downloader.downloadedSize;
  let lastChangeAt = Date.now();
  const watch = setInterval(
    () => {
      if (downloader.downloadedSize !== lastSize) {
        lastSize = downloader.downloadedSize;
        lastChangeAt = Date.now();
      } else if (Date.now() - lastChangeAt >= stallTimeoutMs) {
        stalled = true;
        stop.abort();
      }
    },
    Math.min(1000, stallTimeoutMs / 4),
  );
  try {
    request.signal?.throwIfAborted();
    const path = await downloader.download({ signal: stop.signal });
    // An abort ends ipull's download quietly, with the partial file kept.
    request.signal?.throwIfAborted();
    if (stalled) {
      throw new Error(
        `No data from ${request.url} for ${stallTimeoutMs / 1000} s; the partial download is kept: run it again to resume.`,
      );
    }
    return path;
  } finally {
    clearInterval(watch);
    request.signal?.removeEventListener('abort', forwardAbort);
  }
}

/** Fails fast, with the network reason, when the server cannot be reached or refuses the file. */
async function checkReachable(url: string, signal: AbortSignal | undefined): Promise<void> {
  const response = await fetch(url, { method: 'HEAD', signal });
  if (!response.ok) {
    throw new Error(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''} from ${url}`);
  }
}

function toProgress(status: {
  totalSize: number;
  downloadedSize: number;
  estimatedTimeLeft: number;
  averageSpeed: number;
}): ModelDownloadProgress {
  return {
    downloadedBytes: status.downloadedSize,
    totalBytes: status.totalSize > 0 ? status.totalSize : undefined,
    bytesPerSecond: status.averageSpeed,
    // node-llama-cpp reports milliseconds; until a speed is measured its estimate is meaningless.
    etaSeconds:
      status.averageSpeed > 0 && Number.isFinite(status.estimatedTimeLeft)
        ? status.estimatedTimeLeft / 1000
        : undefined,
  };
}
