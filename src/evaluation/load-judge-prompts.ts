import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import { hashText } from '../util/hash-text.ts';
import { readFrontmatterFile } from '../util/read-frontmatter-file.ts';
import { SystemPromptFrontmatterSchema } from '../schemas/prompt-template.ts';

/** One judge prompt file: system message (frontmatter `system`) and a body with `{{placeholders}}`. */
export interface JudgePrompt {
  /** File name, e.g. `ai-detection.md`. */
  name: string;
  system: string;
  body: string;
  /** First 12 hex chars of the sha256 of the whole file: recorded in `evaluation.json`. */
  hash: string;
}

/** The prompts of the LLM-judge protocols. */
export interface JudgePrompts {
  aiDetection: JudgePrompt;
  faithfulness: JudgePrompt;
  faithfulnessDistractors: JudgePrompt;
}

/** Placeholders each prompt must use (and the only ones it may use). */
const PLACEHOLDERS = {
  'ai-detection.md': [
    'a_user1_persona',
    'a_user2_persona',
    'a_conversation',
    'b_user1_persona',
    'b_user2_persona',
    'b_conversation',
  ],
  'faithfulness.md': ['conversation', 'speaker', 'statements', 'count'],
  'faithfulness-distractors.md': ['negate', 'contradict'],
} as const;

/** The built-in prompts directory (`src/evaluation/prompts`). */
export function defaultJudgePromptsDirectory(): string {
  return fileURLToPath(new URL('./prompts/', import.meta.url));
}

/** Reads and checks the three judge prompt files from `directory`. */
export async function loadJudgePrompts(directory = defaultJudgePromptsDirectory()): Promise<JudgePrompts> {
  const load = async (name: keyof typeof PLACEHOLDERS): Promise<JudgePrompt> => {
    const path = join(directory, name);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      throw new InputError('cannot read the judge prompt file', path);
    }
    const parsed = readFrontmatterFile(text, path, 'the system message (system: ...)');
    const frontmatter = SystemPromptFrontmatterSchema.safeParse(parsed.data);
    if (!frontmatter.success)
      throw new InputError('frontmatter field "system": expected the system message as a non-empty string', path);
    const required: readonly string[] = PLACEHOLDERS[name];
    const used = new Set([...parsed.content.matchAll(/\{\{(\w+)\}\}/g)].map((match) => match[1]));
    for (const placeholder of used) {
      if (!required.includes(placeholder))
        throw new InputError(
          `unknown placeholder {{${placeholder}}}; known: ${required.map((known) => `{{${known}}}`).join(', ')}`,
          path,
        );
    }
    for (const placeholder of required) {
      if (!used.has(placeholder)) throw new InputError(`missing required placeholder {{${placeholder}}}`, path);
    }
    return { name, system: frontmatter.data.system.trim(), body: parsed.content.trim(), hash: hashText(text) };
  };
  return {
    aiDetection: await load('ai-detection.md'),
    faithfulness: await load('faithfulness.md'),
    faithfulnessDistractors: await load('faithfulness-distractors.md'),
  };
}

/** Fills `{{placeholders}}` in one pass, so placeholder-like text inside values is never expanded. */
export function fillPrompt(prompt: JudgePrompt, values: Record<string, string>): { system: string; user: string } {
  return {
    system: prompt.system,
    user: prompt.body.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => values[name] ?? whole),
  };
}
