import { readFrontmatterFile } from '../util/read-frontmatter-file.ts';
import type { z } from 'zod';
import { CriticFrontmatterSchema, type CriticDefinition } from '../schemas/critic.ts';
import { InputError } from '../errors.ts';
import { hashText } from '../util/hash-text.ts';
import { CRITIC_PLACEHOLDERS, REQUIRED_CRITIC_PLACEHOLDERS } from './render-critic-prompt.ts';
import { PLACEHOLDER_PATTERN } from './fill-placeholders.ts';

/** A file that only switches a critic off (`enabled: false`); its other fields are not checked. */
export interface DisabledCritic {
  name: string;
  enabled: false;
  sourcePath: string;
}

const KNOWN_FIELDS = ['name', 'kind', 'description', 'verdict', 'enabled'];
const KNOWN_VERDICT_FIELDS = ['field', 'reject_when'];
/** Names the pipeline uses for its own entries (lint verdicts, the `copeland` score). */
const RESERVED_NAME = /^(lint_.*|copeland)$/;
const FIELD_HINTS: Record<string, string> = {
  name: 'name: faithfulness',
  kind: 'kind: filter',
  description: 'description: One sentence saying what the critic judges.',
  verdict: 'verdict: { field: contradicts, reject_when: true }',
  'verdict.field': 'field: contradicts',
  'verdict.reject_when': 'reject_when: true',
  enabled: 'enabled: false',
};
const FORMAT_HINTS: Record<string, string> = {
  name: 'lowercase letters, digits, "-" or "_", starting with a letter',
  'verdict.field': 'lowercase letters, digits or "_", starting with a letter',
};

/**
 * Parses one critic file (frontmatter + prompt body). `displayPath` names the file in errors.
 * Throws `InputError` naming the file, the field and the fix, e.g.
 * `critics/x.md: frontmatter field "kind": expected "filter" or "pairwise", got "ranker"`.
 */
export function parseCriticFile(text: string, displayPath: string): CriticDefinition | DisabledCritic {
  const source = text.replace(/^\uFEFF/, '');
  const parsed = readFrontmatterFile(source, displayPath, 'name, kind, description and verdict');
  const data: unknown = parsed.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new InputError(
      'frontmatter must be a YAML mapping of fields (name, kind, description, verdict)',
      displayPath,
    );
  }
  const raw = data as Record<string, unknown>;

  if (raw.enabled === false) {
    if (typeof raw.name !== 'string' || !CriticFrontmatterSchema.shape.name.safeParse(raw.name).success) {
      throw fieldError(
        displayPath,
        'name',
        'expected the name of the critic to switch off, e.g. name: toxicity',
        raw.name,
      );
    }
    return { name: raw.name, enabled: false, sourcePath: displayPath };
  }

  const problems = unknownFieldProblems(raw);
  const result = CriticFrontmatterSchema.safeParse(raw);
  if (!result.success) problems.push(...result.error.issues.map((issue) => describeIssue(issue, raw)));
  else problems.push(...kindProblems(result.data, raw));
  if (problems.length) throw new InputError(problems.join('; '), displayPath);
  const frontmatter = result.data!;

  const prompt = parsed.content.trim();
  if (!prompt) throw new InputError('prompt body is empty: write the prompt below the closing "---"', displayPath);
  checkPlaceholders(frontmatter.kind, parsed.content, source, displayPath);

  return { ...frontmatter, prompt, promptHash: hashText(text), sourcePath: displayPath };
}

function fieldError(displayPath: string, field: string, message: string, got?: unknown): InputError {
  const suffix = got === undefined ? '' : `, got ${formatValue(got)}`;
  return new InputError(`frontmatter field "${field}": ${message}${suffix}`, displayPath);
}

function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  return JSON.stringify(value) ?? String(value);
}

function valueAt(raw: Record<string, unknown>, path: readonly PropertyKey[]): unknown {
  let current: unknown = raw;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function unknownFieldProblems(raw: Record<string, unknown>): string[] {
  const problems = Object.keys(raw)
    .filter((key) => !KNOWN_FIELDS.includes(key))
    .map((key) => `frontmatter field "${key}": unknown field; known fields are ${KNOWN_FIELDS.join(', ')}`);
  const verdict = raw.verdict;
  if (typeof verdict === 'object' && verdict !== null && !Array.isArray(verdict)) {
    for (const key of Object.keys(verdict)) {
      if (!KNOWN_VERDICT_FIELDS.includes(key)) {
        problems.push(
          `frontmatter field "verdict.${key}": unknown field; known fields are ${KNOWN_VERDICT_FIELDS.join(', ')}`,
        );
      }
    }
  }
  return problems;
}

function describeIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>): string {
  const field = issue.path.map(String).join('.');
  const got = valueAt(raw, issue.path);
  const hint = FIELD_HINTS[field] ? `, e.g. ${FIELD_HINTS[field]}` : '';
  let message: string;
  switch (issue.code) {
    case 'invalid_value': {
      const options = issue.values.map((value) => JSON.stringify(value));
      const expected = options.length > 1 ? `${options.slice(0, -1).join(', ')} or ${options.at(-1)}` : options[0];
      message = `expected ${expected}, got ${formatValue(got)}`;
      break;
    }
    case 'invalid_type':
      message =
        got === undefined
          ? `missing (expected ${article(issue.expected)}${hint})`
          : `expected ${article(issue.expected)}, got ${formatValue(got)}`;
      break;
    case 'invalid_format':
      message = `expected ${FORMAT_HINTS[field] ?? issue.message}, got ${formatValue(got)}`;
      break;
    case 'too_small':
      message = `expected a non-empty value${hint}`;
      break;
    default:
      message = `${issue.message}${hint}`;
  }
  return `frontmatter field "${field || '(root)'}": ${message}`;
}

function article(expected: string): string {
  if (expected === 'boolean') return 'a boolean (true or false)';
  if (expected === 'object') return 'a mapping';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function kindProblems(frontmatter: z.infer<typeof CriticFrontmatterSchema>, raw: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (RESERVED_NAME.test(frontmatter.name)) {
    problems.push(
      `frontmatter field "name": "${frontmatter.name}" is reserved (lint_* and copeland); choose another name`,
    );
  }
  const rawField = valueAt(raw, ['verdict', 'field']);
  if (frontmatter.kind === 'filter') {
    if (rawField === undefined) {
      problems.push(
        'frontmatter field "verdict.field": required for a filter critic: the boolean field its reply answers, e.g. field: contradicts',
      );
    } else if (['rationale', 'confidence', 'winner'].includes(frontmatter.verdict.field)) {
      problems.push(
        `frontmatter field "verdict.field": "${frontmatter.verdict.field}" is reserved; choose another name, e.g. field: contradicts`,
      );
    }
    if (frontmatter.verdict.reject_when === undefined) {
      problems.push(
        'frontmatter field "verdict.reject_when": required for a filter critic: the value of the field that rejects a candidate, e.g. reject_when: true',
      );
    }
  } else {
    if (frontmatter.verdict.field !== 'winner') {
      problems.push(
        `frontmatter field "verdict.field": a pairwise critic always answers "winner"; remove the field, got ${formatValue(rawField)}`,
      );
    }
    if (frontmatter.verdict.reject_when !== undefined) {
      problems.push(
        'frontmatter field "verdict.reject_when": only filter critics reject; remove it from a pairwise critic',
      );
    }
  }
  return problems;
}

function checkPlaceholders(kind: CriticDefinition['kind'], body: string, source: string, displayPath: string): void {
  const known = CRITIC_PLACEHOLDERS[kind];
  const used = new Set<string>();
  const bodyOffset = source.endsWith(body) ? source.length - body.length : undefined;
  for (const match of body.matchAll(PLACEHOLDER_PATTERN)) {
    const name = match[1];
    if (!known.includes(name)) {
      const line = bodyOffset === undefined ? undefined : source.slice(0, bodyOffset + match.index).split('\n').length;
      throw new InputError(
        `unknown placeholder {{${name}}} in the prompt; a ${kind} critic may use ${known.map((item) => `{{${item}}}`).join(', ')}`,
        displayPath,
        line,
      );
    }
    used.add(name);
  }
  const missing = REQUIRED_CRITIC_PLACEHOLDERS[kind].filter((name) => !used.has(name));
  if (missing.length) {
    throw new InputError(
      `the prompt never uses ${missing.map((name) => `{{${name}}}`).join(' and ')}: a ${kind} critic must show the conversation${kind === 'pairwise' ? 's' : ''} it judges`,
      displayPath,
    );
  }
}
