import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultCriticsDir, loadCritics } from '../../src/critique/load-critics.ts';
import { InputError } from '../../src/errors.ts';
import { hashText } from '../../src/util/hash-text.ts';

const BUILTIN_NAMES = ['coherency', 'consistency', 'depth', 'diversity', 'faithfulness', 'likability', 'toxicity'];

const PAIRWISE_BODY =
  'Compare.\n{{user1_persona}}\n{{user2_persona}}\n{{conversation_a}}\n{{conversation_b}}\nWhich is better? Why?\n';
const FILTER_BODY = 'Check.\n{{user1_persona}}\n{{user2_persona}}\n{{conversation}}\nIs it bad? Why?\n';

function criticFile(frontmatter: string, body: string): string {
  return `---\n${frontmatter.trim()}\n---\n${body}`;
}

let workDir: string;
beforeEach(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'critique-load-'));
});
afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** Writes files into a fresh directory under the temp dir and returns its path. */
async function directory(name: string, files: Record<string, string>): Promise<string> {
  const dir = path.join(workDir, name);
  await mkdir(dir, { recursive: true });
  for (const [fileName, text] of Object.entries(files)) await writeFile(path.join(dir, fileName), text);
  return dir;
}

async function loadError(options: Parameters<typeof loadCritics>[0]): Promise<InputError> {
  const error = await loadCritics(options).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}

describe('loadCritics (built-in critics/)', () => {
  it('resolves the repo critics directory', () => {
    expect(defaultCriticsDir()).toBe(path.resolve(import.meta.dirname, '../../critics'));
  });

  it('loads the seven built-in experts in file-name order, README excluded', async () => {
    const critics = await loadCritics();
    expect(critics.map((critic) => critic.name)).toEqual(BUILTIN_NAMES);
    for (const critic of critics) {
      const text = await readFile(critic.sourcePath, 'utf8');
      expect(critic.promptHash).toBe(hashText(text));
      expect(critic.promptHash).toMatch(/^[0-9a-f]{12}$/);
      expect(critic.enabled).toBe(true);
      expect(critic.prompt).toContain('{{user1_persona}}');
      expect(critic.prompt).toContain('{{user2_persona}}');
    }
  });

  it('defines the filters with their verdict fields and the rankers as pairwise', async () => {
    const byName = Object.fromEntries((await loadCritics()).map((critic) => [critic.name, critic]));
    expect(byName.faithfulness).toMatchObject({ kind: 'filter', verdict: { field: 'contradicts', reject_when: true } });
    expect(byName.toxicity).toMatchObject({ kind: 'filter', verdict: { field: 'toxic', reject_when: true } });
    for (const name of ['depth', 'coherency', 'consistency', 'diversity', 'likability']) {
      expect(byName[name]).toMatchObject({ kind: 'pairwise', verdict: { field: 'winner' } });
      expect(byName[name].prompt).toMatch(/Which conversation is .+\? Why\?/);
    }
    const faithfulExamples = byName.faithfulness.prompt.match(/^### Example \d+ \(faithful\)$/gm) ?? [];
    const unfaithfulExamples = byName.faithfulness.prompt.match(/^### Example \d+ \(unfaithful\)$/gm) ?? [];
    expect(faithfulExamples.length).toBeGreaterThanOrEqual(2);
    expect(unfaithfulExamples.length).toBeGreaterThanOrEqual(2);
    // Worked examples must not use the <conversation> tag: only the judged conversation does.
    expect(byName.faithfulness.prompt.match(/<conversation/g)).toBeNull();
  });
});

describe('loadCritics (override directory)', () => {
  it('replaces a built-in by name, in place, and adds new critics after the built-ins', async () => {
    const overrideDir = await directory('override', {
      'my-depth.md': criticFile('name: depth\nkind: pairwise\ndescription: Stricter depth.', PAIRWISE_BODY),
      'politeness.md': criticFile(
        'name: politeness\nkind: filter\ndescription: Rude?\nverdict:\n  field: rude\n  reject_when: true',
        FILTER_BODY,
      ),
      'README.md': 'not a critic',
    });
    const critics = await loadCritics({ overrideDir });
    expect(critics.map((critic) => critic.name)).toEqual([...BUILTIN_NAMES, 'politeness']);
    const depth = critics.find((critic) => critic.name === 'depth')!;
    expect(depth.description).toBe('Stricter depth.');
    expect(depth.sourcePath).toBe(path.join(overrideDir, 'my-depth.md'));
  });

  it('switches a built-in off with enabled: false (name alone is enough)', async () => {
    const overrideDir = await directory('override', { 'toxicity.md': '---\nname: toxicity\nenabled: false\n---\n' });
    const names = (await loadCritics({ overrideDir })).map((critic) => critic.name);
    expect(names).not.toContain('toxicity');
    expect(names).toHaveLength(6);
  });

  it('rejects enabled: false for a critic that does not exist', async () => {
    const overrideDir = await directory('override', { 'x.md': '---\nname: toxicty\nenabled: false\n---\n' });
    const error = await loadError({ overrideDir });
    expect(error.message).toContain('"toxicty"');
    expect(error.message).toContain(path.join(overrideDir, 'x.md'));
  });

  it('rejects a missing or empty override directory, naming it', async () => {
    const missing = path.join(workDir, 'nope');
    expect((await loadError({ overrideDir: missing })).message).toBe(
      `critics directory not found: ${missing} (expected a directory of critic .md files)`,
    );
    const empty = await directory('empty', { 'README.md': '# nothing here' });
    expect((await loadError({ overrideDir: empty })).message).toContain(`critics directory is empty: ${empty}`);
  });
});

describe('loadCritics (bad files)', () => {
  async function errorFor(text: string): Promise<{ message: string; file: string }> {
    const builtinDir = await directory('critics', { 'x.md': text });
    const error = await loadError({ builtinDir });
    return { message: error.message, file: path.join(builtinDir, 'x.md') };
  }

  it('names the file, the field and the allowed values for a bad kind', async () => {
    const { message, file } = await errorFor(criticFile('name: x\nkind: ranker\ndescription: d', PAIRWISE_BODY));
    expect(message).toBe(`${file}: frontmatter field "kind": expected "filter" or "pairwise", got "ranker"`);
  });

  it('says how to fix a missing field', async () => {
    const { message, file } = await errorFor(criticFile('name: x\nkind: pairwise', PAIRWISE_BODY));
    expect(message).toBe(
      `${file}: frontmatter field "description": missing (expected a string, e.g. description: One sentence saying what the critic judges.)`,
    );
  });

  it('rejects a bad name, an unknown field and a filter without reject_when', async () => {
    expect(
      (await errorFor(criticFile('name: My Critic\nkind: pairwise\ndescription: d', PAIRWISE_BODY))).message,
    ).toContain(
      'frontmatter field "name": expected lowercase letters, digits, "-" or "_", starting with a letter, got "My Critic"',
    );
    expect(
      (await errorFor(criticFile('name: x\nkind: pairwise\ndescription: d\nenable: false', PAIRWISE_BODY))).message,
    ).toContain('frontmatter field "enable": unknown field');
    expect(
      (await errorFor(criticFile('name: x\nkind: filter\ndescription: d\nverdict:\n  field: bad', FILTER_BODY)))
        .message,
    ).toContain('frontmatter field "verdict.reject_when": required for a filter critic');
  });

  it('rejects a file without frontmatter or with invalid YAML', async () => {
    expect((await errorFor('Just a prompt {{conversation}}')).message).toContain('missing frontmatter');
    expect((await errorFor('---\nname: [x\n---\nbody')).message).toContain('frontmatter is not valid YAML');
  });

  it('rejects an unknown placeholder with its line', async () => {
    const text = criticFile('name: x\nkind: pairwise\ndescription: d', `${PAIRWISE_BODY}Also {{conversation_c}}.\n`);
    const { message, file } = await errorFor(text);
    expect(message).toBe(
      `${file}:12: unknown placeholder {{conversation_c}} in the prompt; a pairwise critic may use {{user1_persona}}, {{user2_persona}}, {{conversation_a}}, {{conversation_b}}`,
    );
  });

  it('rejects a placeholder of the other kind and a body that never shows the conversation', async () => {
    expect((await errorFor(criticFile('name: x\nkind: pairwise\ndescription: d', FILTER_BODY))).message).toContain(
      'unknown placeholder {{conversation}}',
    );
    const noConversation = criticFile(
      'name: x\nkind: filter\ndescription: d\nverdict: { field: bad, reject_when: true }',
      'Is {{user1_persona}} nice?',
    );
    expect((await errorFor(noConversation)).message).toContain('the prompt never uses {{conversation}}');
  });

  it('rejects two files with the same name in one directory', async () => {
    const builtinDir = await directory('dupes', {
      'a.md': criticFile('name: same\nkind: pairwise\ndescription: d', PAIRWISE_BODY),
      'b.md': criticFile('name: same\nkind: pairwise\ndescription: d', PAIRWISE_BODY),
    });
    expect((await loadError({ builtinDir })).message).toContain('"same" is also the name of');
  });
});
