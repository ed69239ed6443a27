import type { Command } from 'commander';
import { ConfigError } from '../../errors.ts';
import { defaultCacheDir, listCachedModels, modelsDirOf, resolveModelPath } from '../../llm/llama/model-cache.ts';
import { downloadModelFile, type ModelDownloadProgress } from '../../llm/llama/download-model-file.ts';
import { parseModelReference } from '../../llm/llama/model-reference.ts';
import { DEFAULT_MODEL } from '../../llm/llama/model-registry.ts';
import { formatDuration } from '../format-duration.ts';

/** What the command talks to; tests replace them. */
export interface ModelsCommandDependencies {
  env?: Readonly<Record<string, string | undefined>>;
  stdout?: { write(text: string): unknown };
  /** Progress goes here; a bar when `isTTY`, log lines otherwise. */
  stderr?: { write(text: string): unknown; isTTY?: boolean };
}

/** `persona-forge models pull [reference]` and `persona-forge models list`. */
export function registerModelsCommand(program: Command, dependencies: ModelsCommandDependencies = {}): void {
  const env = dependencies.env ?? process.env;
  const stdout = dependencies.stdout ?? process.stdout;
  const stderr = dependencies.stderr ?? process.stderr;
  const cacheDirOf = (flag: string | undefined) => flag ?? defaultCacheDir(env);

  const models = program
    .command('models')
    .description('Manage GGUF models for the embedded llama.cpp backend (cache: $PERSONA_FORGE_HOME/models)');

  models
    .command('pull')
    .description(
      `Download a model into the cache, resuming an interrupted download (default: ${DEFAULT_MODEL.description})`,
    )
    .argument('[reference]', '`hf:<user>/<repo>/<file>.gguf[#revision]` or an https:// URL', DEFAULT_MODEL.reference)
    .option(
      '--cache-dir <dir>',
      'cache directory (default: $PERSONA_FORGE_HOME, $XDG_CACHE_HOME/persona-forge or ~/.cache/persona-forge)',
    )
    .action(async (reference: string, options: { cacheDir?: string }) => {
      if (parseModelReference(reference).kind === 'file') {
        throw new ConfigError(
          `\`models pull\` downloads \`hf:\` or https:// references; \`${reference}\` is a local path.`,
        );
      }
      const cacheDir = cacheDirOf(options.cacheDir);
      const renderer = createDownloadProgressRenderer(stderr);
      let downloaded = false;
      const path = await resolveModelPath(reference, {
        cacheDir,
        onProgress: renderer.update,
        download: async (request) => {
          downloaded = true;
          stderr.write(`Downloading ${request.url}\n`);
          try {
            return await downloadModelFile(request);
          } finally {
            renderer.finish();
          }
        },
      });
      stdout.write(`${downloaded ? 'Saved' : 'Already cached:'} ${path}\n`);
    });

  models
    .command('list')
    .description('List cached models and whether the default model is present')
    .option(
      '--cache-dir <dir>',
      'cache directory (default: $PERSONA_FORGE_HOME, $XDG_CACHE_HOME/persona-forge or ~/.cache/persona-forge)',
    )
    .action(async (options: { cacheDir?: string }) => {
      const cacheDir = cacheDirOf(options.cacheDir);
      const cached = await listCachedModels(cacheDir);
      const lines = [`Models in ${modelsDirOf(cacheDir)}:`];
      if (cached.length === 0) lines.push('  (none)');
      for (const model of cached) {
        const notes = [
          model.partial ? 'partial download: `models pull` resumes it' : undefined,
          model.fileName === DEFAULT_MODEL.fileName && !model.partial ? 'default' : undefined,
        ].filter(Boolean);
        const size = model.sizeBytes === undefined ? '' : `  ${formatMegabytes(model.sizeBytes)}`;
        lines.push(`  ${model.fileName}${size}${notes.length ? `  (${notes.join(', ')})` : ''}`);
      }
      const defaultPresent = cached.some(
        (model) =>
          !model.partial && model.fileName === DEFAULT_MODEL.fileName && model.sizeBytes === DEFAULT_MODEL.sizeBytes,
      );
      lines.push(
        '',
        `Default model: ${DEFAULT_MODEL.description}, ${DEFAULT_MODEL.license}, ${formatMegabytes(DEFAULT_MODEL.sizeBytes)}`,
        `  ${DEFAULT_MODEL.reference}`,
        `  ${defaultPresent ? 'present' : 'not downloaded: run `persona-forge models pull`'}`,
      );
      stdout.write(`${lines.join('\n')}\n`);
    });
}

/**
 * Download progress for humans: on a TTY one bar redrawn at most every 100 ms
 * (`[#####.....]  42.1%  206.9/491.4 MB  12.3 MB/s  ETA 23s`); otherwise one line per 10%.
 */
export function createDownloadProgressRenderer(
  stream: { write(text: string): unknown; isTTY?: boolean },
  now: () => number = Date.now,
): { update: (progress: ModelDownloadProgress) => void; finish: () => void } {
  let lastDraw = 0;
  let lastStep = -1;
  let drewBar = false;
  return {
    update(progress) {
      const fraction = progress.totalBytes ? progress.downloadedBytes / progress.totalBytes : undefined;
      const sizes = `${formatMegabytes(progress.downloadedBytes, false)}/${progress.totalBytes ? formatMegabytes(progress.totalBytes) : '? MB'}`;
      const speed = `${formatMegabytes(progress.bytesPerSecond)}/s`;
      const eta = progress.etaSeconds === undefined ? '?' : formatDuration(progress.etaSeconds * 1000);
      const percent = fraction === undefined ? '?%' : `${(fraction * 100).toFixed(1)}%`;
      if (stream.isTTY) {
        const time = now();
        if (time - lastDraw < 100 && fraction !== 1) return;
        lastDraw = time;
        const filled = Math.round((fraction ?? 0) * 20);
        stream.write(
          `\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${percent.padStart(6)}  ${sizes}  ${speed}  ETA ${eta}`,
        );
        drewBar = true;
        return;
      }
      const step = fraction === undefined ? Math.floor(progress.downloadedBytes / 50e6) : Math.floor(fraction * 10);
      if (step === lastStep) return;
      lastStep = step;
      stream.write(`downloaded ${percent} (${sizes}, ${speed}, ETA ${eta})\n`);
    },
    finish() {
      if (drewBar) stream.write('\n');
      drewBar = false;
    },
  };
}

function formatMegabytes(bytes: number, withUnit = true): string {
  return `${(bytes / 1e6).toFixed(1)}${withUnit ? ' MB' : ''}`;
}
