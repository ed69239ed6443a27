import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { useTinyModel } from '../fixtures/tiny-model.ts';

const tinyModel = useTinyModel();
const repoRoot = resolve(import.meta.dirname, '../..');

/** A child process that loads the tiny model, registers disposeOnSignals and idles until signalled. */
async function writeChildScript(extraListener: boolean): Promise<string> {
  const script = join(tinyModel.dir, `child-${extraListener}.mts`);
  await writeFile(
    script,
    `
import { createLlamaCppBackend } from ${JSON.stringify(join(repoRoot, 'src/llm/llama/llama-cpp-backend.ts'))};
import { disposeOnSignals } from ${JSON.stringify(join(repoRoot, 'src/llm/llama/llama-dispose-on-signals.ts'))};
const backend = await createLlamaCppBackend({ modelPath: ${JSON.stringify(tinyModel.path)}, threads: 1, contextSize: 256 });
const dispose = backend.dispose.bind(backend);
backend.dispose = async () => { await dispose(); process.stdout.write('disposed\\n'); };
disposeOnSignals(backend${extraListener ? ', { onDisposed: () => {} }' : ''});
${extraListener ? "process.on('SIGINT', () => setTimeout(() => process.exit(130), 500));" : ''}
await backend.complete({ role: 'generator', messages: [{ role: 'user', content: 'hi' }], maxOutputTokens: 4 });
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);
`,
  );
  return script;
}

function runUntilReadyThenInterrupt(script: string) {
  return new Promise<{ stdout: string; code: number | null; signal: NodeJS.Signals | null }>((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`child did not finish; stdout: ${stdout}`));
    }, 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('ready\n') && !child.killed) child.kill('SIGINT');
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      done({ stdout, code, signal });
    });
  });
}

describe('disposeOnSignals', () => {
  it('disposes the backend on SIGINT and then lets the signal end the process', async () => {
    const result = await runUntilReadyThenInterrupt(await writeChildScript(false));
    expect(result.stdout).toContain('disposed');
    expect(result.signal).toBe('SIGINT');
  });

  it('leaves ending the process to a CLI that handles SIGINT itself (onDisposed)', async () => {
    const result = await runUntilReadyThenInterrupt(await writeChildScript(true));
    expect(result.stdout).toContain('disposed');
    expect(result.signal).toBeNull();
    expect(result.code).toBe(130);
  });
});
