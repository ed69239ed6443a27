import { readFile } from 'node:fs/promises';
import type { CombinedPanel } from '../schemas/combined-panel.ts';
import { InputError } from '../errors.ts';

const loaded = new Map<string, Promise<CombinedPanel>>();

/**
 * Reads and parses a panel prompt file once per path and process (workers load panels lazily from
 * the installed package, so a file is read once, not per job). A failed read or parse is not
 * kept: the next call tries again. `unreadable` is the `InputError` message when the file cannot
 * be read (the error names the path).
 */
export function loadPanelFileOnce(
  path: string,
  parse: (text: string, displayPath: string) => CombinedPanel,
  unreadable: string,
): Promise<CombinedPanel> {
  let panel = loaded.get(path);
  if (!panel) {
    panel = readFile(path, 'utf8').then(
      (text) => parse(text, path),
      () => {
        throw new InputError(unreadable, path);
      },
    );
    loaded.set(path, panel);
    panel.catch(() => loaded.delete(path));
  }
  return panel;
}
