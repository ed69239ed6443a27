import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  downloadModelFile,
  PARTIAL_DOWNLOAD_EXTENSION,
  type ModelDownloadFunction,
  type ModelDownloadProgress,
} from './download-model-file.ts';
import { parseModelReference } from './model-reference.ts';
import { findKnownModel } from './model-registry.ts';
import { ModelUnavailableError } from './model-unavailable-error.ts';

/**
 * The cache directory: `PERSONA_FORGE_HOME`, else `$XDG_CACHE_HOME/persona-forge`, else
 * `<home>/.cache/persona-forge`. The caller passes the environment (only `src/cli` reads
 * `process.env`); empty values count as unset.
 */
export function defaultCacheDir(
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string = homedir(),
): string {
  if (env.PERSONA_FORGE_HOME) return resolve(env.PERSONA_FORGE_HOME);
  if (env.XDG_CACHE_HOME) return resolve(env.XDG_CACHE_HOME, 'persona-forge');
  return resolve(homeDir, '.cache', 'persona-forge');
}

/** Model files live in `<cacheDir>/models`, flat, under their remote file name. */
export function modelsDirOf(cacheDir: string): string {
  return join(cacheDir, 'models');
}

export interface ResolveModelPathOptions {
  cacheDir: string;
  /** Download progress, when a download is needed. */
  onProgress?: (progress: ModelDownloadProgress) => void;
  /** Downloads a missing file. @defaultValue `downloadModelFile` (node-llama-cpp's downloader, resumable) */
  download?: ModelDownloadFunction;
  signal?: AbortSignal;
}

/**
 * Turns a model reference into a local GGUF path. A file path must exist. An `hf:`/HTTPS
 * reference is looked up in `<cacheDir>/models/<file name>` and downloaded there when missing
 * (or when its size differs from a known model's size). Known models are checked by size and SHA-256.
 * Throws `ModelUnavailableError` (with the three ways forward) when the file is missing and the
 * download fails.
 */
export async function resolveModelPath(reference: string, options: ResolveModelPathOptions): Promise<string> {
  const modelsDir = modelsDirOf(options.cacheDir);
  const parsed = parseModelReference(reference);
  if (parsed.kind === 'file') {
    if ((await fileSize(parsed.path)) !== undefined) return resolve(parsed.path);
    throw new ModelUnavailableError(`Model file ${parsed.path} does not exist.`, reference, modelsDir);
  }

  const known = findKnownModel(reference);
  const destinationPath = join(modelsDir, parsed.fileName);
  const cachedSize = await fileSize(destinationPath);
  if (cachedSize !== undefined && (known === undefined || cachedSize === known.sizeBytes)) return destinationPath;

  const download = options.download ?? downloadModelFile;
  try {
    const result = await download({
      url: parsed.url,
      destinationPath,
      expectedSizeBytes: known?.sizeBytes,
      expectedSha256: known?.sha256,
      onProgress: options.onProgress,
      signal: options.signal,
    });
    return result.path;
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const why = describeError(error);
    const present =
      cachedSize === undefined
        ? `is not in ${modelsDir}`
        : `in ${modelsDir} has ${cachedSize} bytes instead of ${known?.sizeBytes}`;
    throw new ModelUnavailableError(
      `Model ${parsed.fileName} ${present}, and downloading it from ${parsed.url} failed: ${why}`,
      reference,
      modelsDir,
      { cause: error },
    );
  }
}

/** One file in `<cacheDir>/models`. */
export interface CachedModel {
  fileName: string;
  path: string;
  /** Absent for a partial download: its file holds gaps and a progress record, so its size says nothing. */
  sizeBytes: number | undefined;
  /** From the `<file>.sha256` sidecar written after a download; absent for copied files. */
  sha256: string | undefined;
  /** An interrupted download (node-llama-cpp's `<file>.ipull`); `models pull` resumes it. */
  partial: boolean;
}

/** The GGUF files (complete and partial) in `<cacheDir>/models`, sorted by name; empty when the directory is missing. */
export async function listCachedModels(cacheDir: string): Promise<CachedModel[]> {
  const modelsDir = modelsDirOf(cacheDir);
  let names: string[];
  try {
    names = await readdir(modelsDir);
  } catch {
    return [];
  }
  const models: CachedModel[] = [];
  for (const name of names.sort()) {
    const partial = name.endsWith(`.gguf${PARTIAL_DOWNLOAD_EXTENSION}`);
    if (!partial && !name.endsWith('.gguf')) continue;
    const path = join(modelsDir, name);
    const sizeBytes = await fileSize(path);
    if (sizeBytes === undefined) continue;
    const fileName = partial ? name.slice(0, -PARTIAL_DOWNLOAD_EXTENSION.length) : name;
    models.push({
      fileName,
      path,
      sizeBytes: partial ? undefined : sizeBytes,
      sha256: partial ? undefined : await readSidecar(`${path}.sha256`),
      partial,
    });
  }
  return models;
}

/** `fetch failed (getaddrinfo ENOTFOUND huggingface.co)`: fetch hides the network reason in `cause`. */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  return cause && !error.message.includes(cause) ? `${error.message} (${cause})` : error.message;
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  } catch {
    return undefined;
  }
}

async function readSidecar(path: string): Promise<string | undefined> {
  try {
    return /^[0-9a-f]{64}/.exec(await readFile(path, 'utf8'))?.[0];
  } catch {
    return undefined;
  }
}
