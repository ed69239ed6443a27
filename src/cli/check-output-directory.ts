import { mkdtemp, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a path component is a file, not a directory',
  ENOENT: 'this file system does not allow new directories there',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
};

/**
 * Checks, before anything is written, that run directories can be created under `out`: the nearest
 * existing ancestor must be a directory in which a directory can be made (tried with a temporary
 * one, removed at once). Throws a `ConfigError` naming `--out`, the reason and the fix. Nothing is
 * left behind. (A recursive mkdir on a pseudo file system such as /proc would loop forever in Node.)
 */
export async function checkOutputDirectory(out: string, flag = '--out'): Promise<void> {
  const target = resolve(out);
  let ancestor = target;
  for (;;) {
    try {
      const info = await stat(ancestor);
      if (!info.isDirectory()) {
        throw new ConfigError(
          `${flag} ${out}: ${ancestor} is a file, not a directory; pass a directory with ${flag} DIR`,
        );
      }
      break;
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') {
        throw new ConfigError(
          `${flag} ${out}: a component of ${ancestor} is a file, not a directory; pass a directory with ${flag} DIR`,
        );
      }
      if (code !== 'ENOENT' || dirname(ancestor) === ancestor) throw unwritable(flag, out, ancestor, error);
      ancestor = dirname(ancestor);
    }
  }
  try {
    await rmdir(await mkdtemp(join(ancestor, '.persona-forge-write-check-')));
  } catch (error) {
    throw unwritable(flag, out, ancestor, error);
  }
}

function unwritable(flag: string, out: string, ancestor: string, error: unknown): ConfigError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  const reason = REASONS[code] ?? (error as Error).message;
  return new ConfigError(
    `${flag} ${out}: cannot create directories in ${ancestor} (${code}: ${reason}); pass a writable directory with ${flag} DIR`,
  );
}
