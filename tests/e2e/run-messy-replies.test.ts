import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureServer, type FixtureServer } from '../fixtures/openai-fixture-server.ts';
import { REPO_ROOT, runCli, type CliResult } from '../fixtures/run-cli.ts';
import { CandidateRecordSchema, type CandidateRecord } from '../../src/schemas/candidate-record.ts';
import { ManifestSchema, type Manifest } from '../../src/schemas/manifest.ts';
import { OutcomeLineSchema } from '../../src/schemas/outcome-line.ts';

const MESSY_SOURCE = join(REPO_ROOT, 'tests', 'fixtures', 'personas', 'spc-messy.csv');
const readLines = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as unknown);

/**
 * How chat models dress up a conversation: choice 0 gets a preamble, a code fence, bold speaker
 * tags with blank lines between turns and a closing remark; choice 1 gets spaced emphasis tags
 * (`* * User 1: * *`); other choices stay as the fixture wrote them.
 */
function dressUp(content: string, choiceIndex: number): string {
  const lines = content.split('\n');
  if (choiceIndex === 0) {
    const bold = lines.map((line) => line.replace(/^User ([12]): /, '**User $1:** ')).join('\n\n');
    return `Sure! Here is the conversation:\n\n\`\`\`\n${bold}\n\`\`\`\n\nI hope this helps! Let me know if you want any changes.`;
  }
  if (choiceIndex === 1) return lines.map((line) => line.replace(/^User ([12]): /, '* * User $1: * * ')).join('\n');
  return content;
}

/** A structured (JSON) reply the way chat models often send it: prose (with braces) around a fenced block. */
const fenceJson = (content: string) =>
  `Here is my assessment:\n\n\`\`\`json\n${content}\n\`\`\`\n\nScores are in {0, 1}; let me know if you need anything else.`;

/**
 * A loopback proxy in front of the fixture that dresses up generator replies (plain `User 1:` text)
 * and fences every JSON reply (critics, checks).
 */
async function startDressingProxy(target: string): Promise<{ baseUrl: string; close: () => Promise<void> }> {
  const origin = new URL(target).origin;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(([name]) => !['host', 'content-length', 'connection'].includes(name)),
      ) as Record<string, string>;
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      fetch(`${origin}${request.url}`, { method: request.method, headers, body })
        .then(async (upstream) => {
          let text = await upstream.text();
          const data = (() => {
            try {
              return JSON.parse(text) as { choices?: { index?: number; message?: { content?: string } }[] };
            } catch {
              return undefined;
            }
          })();
          if (data?.choices?.some((choice) => choice.message?.content?.startsWith('User 1:'))) {
            data.choices.forEach((choice, position) => {
              if (choice.message?.content?.startsWith('User 1:')) {
                choice.message.content = dressUp(choice.message.content, choice.index ?? position);
              }
            });
            text = JSON.stringify(data);
          } else if (data?.choices?.some((choice) => choice.message?.content?.trimStart().startsWith('{'))) {
            for (const choice of data.choices) {
              if (choice.message?.content) choice.message.content = fenceJson(choice.message.content);
            }
            text = JSON.stringify(data);
          }
          response.writeHead(upstream.status, {
            'content-type': upstream.headers.get('content-type') ?? 'application/json',
          });
          response.end(text);
        })
        .catch((error: unknown) => {
          response.writeHead(502);
          response.end(String(error));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('persona-forge run on generator replies the way chat models write them', { timeout: 240_000 }, () => {
  let fixture: FixtureServer;
  let proxy: Awaited<ReturnType<typeof startDressingProxy>>;
  let out: string;
  let cli: CliResult;
  let manifest: Manifest;
  let candidates: CandidateRecord[];

  beforeAll(async () => {
    // Sample 3 of every pair is no conversation at all: it must be a rejected candidate, not a failed pair.
    fixture = await startFixtureServer({
      candidateScript: ({ sampleIndex }) => (sampleIndex === 3 ? 'garbage' : 'normal'),
    });
    proxy = await startDressingProxy(fixture.baseUrl);
    out = await mkdtemp(join(tmpdir(), 'pf-messy-replies-'));
    cli = await runCli([
      'run',
      '--base-url',
      proxy.baseUrl,
      '--model',
      'fixture-gen',
      '--critic-model',
      'fixture-critic',
      '--iterations',
      '1',
      '--pairs',
      '3',
      '--candidates',
      '4',
      '--out',
      out,
      '--run-id',
      'messy',
      '--seed',
      '5',
    ]).result;
    manifest = ManifestSchema.parse(JSON.parse(await readFile(join(out, 'messy', 'manifest.json'), 'utf8')));
    candidates = (await readLines(join(out, 'messy', 'candidates.jsonl'))).map((line) =>
      CandidateRecordSchema.parse(line),
    );
  }, 240_000);

  afterAll(async () => {
    await proxy?.close();
    await fixture?.close();
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('completes every pair (none failed) and prints how the replies parsed', () => {
    expect(cli.stderr).not.toContain('unexpected error');
    expect(cli.code).toBe(0);
    expect(manifest.totals.failed).toBe(0);
    expect(manifest.totals.accepted).toBe(3);
    expect(cli.stdout).toMatch(/^generator replies: 12 \(3 as written, 6 repaired: .*; 3 unparsable, rejected\)$/m);
  });

  it('parses dressed-up replies into clean turns and keeps the raw text', () => {
    const dressed = candidates.filter((record) => record.raw_text.includes('User 1:') && record.raw_text.includes('*'));
    expect(dressed).toHaveLength(6);
    for (const record of dressed) {
      expect(record.parse_error).toBeUndefined();
      expect(record.turns.length).toBeGreaterThanOrEqual(2);
      for (const turn of record.turns) expect(turn.text).not.toMatch(/^\*|\*$|Sure!|hope this helps|```/);
      expect(record.filters.find((verdict) => verdict.critic === 'lint_parse')?.passed).toBe(true);
    }
    const fenced = dressed.filter((record) => record.raw_text.startsWith('Sure! Here is the conversation:'));
    expect(fenced).toHaveLength(3);
    for (const record of fenced) {
      expect(record.parse_repairs).toMatchObject({
        preamble: 1,
        code_fence: 2,
        closing_remark: 1,
        markdown_speaker_tags: 12,
      });
    }
  });

  it('records an unparsable reply as a rejected candidate with the reason, never as a failed pair', async () => {
    const unparsable = candidates.filter((record) => record.parse_error !== undefined);
    expect(unparsable).toHaveLength(3);
    for (const record of unparsable) {
      expect(record.status).toBe('filtered');
      expect(record.filtered_by).toBe('lint_parse');
      expect(record.raw_text).toMatch(/^Sorry, I would rather not write that/);
      expect(record.filters.find((verdict) => verdict.critic === 'lint_parse')?.rationale).toBe(
        'reply did not parse: no "User 1:" / "User 2:" lines found in the reply',
      );
    }
    const outcomes = (await readLines(join(out, 'messy', 'outcomes.jsonl'))).map((line) =>
      OutcomeLineSchema.parse(line),
    );
    expect(outcomes.every((outcome) => outcome.status !== 'failed')).toBe(true);
  });

  it('reads fenced JSON critic replies without a repair request or a retry', () => {
    const structured = fixture.requests.filter((request) => request.kind !== 'generator' && request.kind !== 'models');
    expect(structured.length).toBeGreaterThan(0);
    const repairs = structured.filter((request) =>
      (request.body?.messages ?? []).some((message: { role: string }) => message.role === 'assistant'),
    );
    expect(repairs).toHaveLength(0);
    expect(manifest.totals.usage.critic.faults?.retries.invalid_json ?? 0).toBe(0);
  });

  it('counts the repairs per iteration and overall in manifest.json', () => {
    const expected = {
      replies: 12,
      repaired: 6,
      unparsable: 3,
      repaired_by_kind: { preamble: 3, code_fence: 3, closing_remark: 3, blank_lines: 3, markdown_speaker_tags: 6 },
    };
    expect(manifest.iterations[0].reply_parsing).toEqual(expected);
    expect(manifest.totals.reply_parsing).toEqual(expected);
  });
});

describe('persona-forge run when no reply parses', { timeout: 240_000 }, () => {
  it('rejects the pairs (exit 0), fails none', async () => {
    const fixture = await startFixtureServer({ candidateScript: () => 'garbage' });
    const out = await mkdtemp(join(tmpdir(), 'pf-garbage-replies-'));
    try {
      const { code, stdout, stderr } = await runCli([
        'run',
        '--base-url',
        fixture.baseUrl,
        '--iterations',
        '1',
        '--pairs',
        '2',
        '--candidates',
        '2',
        '--out',
        out,
        '--run-id',
        'garbage',
      ]).result;
      expect(stderr).not.toContain('unexpected error');
      expect(code).toBe(0);
      const manifest = ManifestSchema.parse(JSON.parse(await readFile(join(out, 'garbage', 'manifest.json'), 'utf8')));
      expect(manifest.totals).toMatchObject({ rejected: 2, failed: 0, accepted: 0 });
      // 2 pairs x 2 candidates x 2 attempts (`critique.retry_rejected` tries a rejected pair once more).
      expect(manifest.totals.reply_parsing).toEqual({ replies: 8, repaired: 0, unparsable: 8, repaired_by_kind: {} });
      expect(stdout).toContain('generator replies: 8 (0 as written, 0 repaired; 8 unparsable, rejected)');
    } finally {
      await fixture.close();
      await rm(out, { recursive: true, force: true });
    }
  });
});

describe('persona-forge run in seed-pairs mode from a messy seed dataset', { timeout: 240_000 }, () => {
  let fixture: FixtureServer;
  let out: string;
  beforeAll(async () => {
    fixture = await startFixtureServer();
    out = await mkdtemp(join(tmpdir(), 'pf-seed-pairs-messy-'));
  });
  afterAll(async () => {
    await fixture?.close();
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('skips the bad rows with one event each and counts the import in manifest.json and the summary', async () => {
    const config = join(out, 'seed-pairs.yaml');
    await writeFile(config, `personas:\n  mode: seed-pairs\n  source: ${MESSY_SOURCE}\n`);
    const { code, stdout, stderr } = await runCli([
      'run',
      '--base-url',
      fixture.baseUrl,
      '--out',
      out,
      '--run-id',
      'seeds',
      '--iterations',
      '1',
      '--pairs',
      '2',
      '--candidates',
      '2',
      '--config',
      config,
    ]).result;
    expect(stderr).not.toContain('unexpected error');
    expect(code).toBe(0);
    // One warning per skipped record (a JSON log line here, stderr being no terminal; a plain line in one).
    const skippedEvents = [...stderr.matchAll(/warning: (.+?):(\d+): skipped \((\w+)\)/g)].map(
      ([, file, line, reason]) => ({
        file,
        line: Number(line),
        reason,
      }),
    );
    expect(skippedEvents.map((event) => [event.file, event.line, event.reason])).toEqual([
      [MESSY_SOURCE, 11, 'empty_conversation'],
      [MESSY_SOURCE, 12, 'no_recognizable_turns'],
      [MESSY_SOURCE, 23, 'one_speaker_only'],
      [MESSY_SOURCE, 25, 'malformed_csv_record'],
      [MESSY_SOURCE, 27, 'empty_persona'],
    ]);
    const manifest = ManifestSchema.parse(JSON.parse(await readFile(join(out, 'seeds', 'manifest.json'), 'utf8')));
    expect(manifest.personas_import).toMatchObject({ rows_read: 10, imported: 5, repaired: 3, skipped: 5 });
    expect(stdout).toContain(`import: 5 of 10 records of ${MESSY_SOURCE} imported (3 repaired:`);
  });

  it('with personas.strict exits 2 naming file:line before any LLM call', async () => {
    const config = join(out, 'strict.yaml');
    await writeFile(config, `personas:\n  mode: seed-pairs\n  strict: true\n  source: ${MESSY_SOURCE}\n`);
    const before = fixture.stats.total;
    const { code, stderr } = await runCli([
      'run',
      '--base-url',
      fixture.baseUrl,
      '--out',
      out,
      '--run-id',
      'strict',
      '--iterations',
      '1',
      '--pairs',
      '2',
      '--config',
      config,
    ]).result;
    expect(code).toBe(2);
    expect(stderr).toContain(`persona-forge: ${MESSY_SOURCE}:11: column "Best Generated Conversation" is empty`);
    expect(fixture.stats.total).toBe(before);
  });
});
