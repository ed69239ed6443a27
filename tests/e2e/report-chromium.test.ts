import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateDataset } from '../../src/evaluation/evaluate-dataset.ts';
import { writeRunReport } from '../../src/evaluation/write-run-report.ts';
import { OpenAiCompatibleBackend } from '../../src/llm/openai/openai-compatible-backend.ts';
import { createRunDirectory, type SyntheticRun } from '../fixtures/evaluation/create-run-directory.ts';
import { startFixtureServer } from '../fixtures/openai-fixture-server.ts';
import { serviceMissing, servicePath } from '../fixtures/require-service.ts';

const CHROMIUM = servicePath('chromium') ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const hasChromium = !serviceMissing('chromium', 'the report.html browser tests (tests/e2e/report-chromium.test.ts)');

let directory: string;
let browser: Browser | undefined;
let run: SyntheticRun;

/** Opens a file in Chromium with every network request other than the file itself blocked and counted. */
async function openReport(path: string) {
  const page = await browser!.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  const url = pathToFileURL(path).href;
  await page.route('**/*', (route) => {
    if (route.request().url() === url) return route.continue();
    requests.push(route.request().url());
    return route.abort();
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, problems, requests };
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'pf-report-'));
  run = await createRunDirectory(join(directory, 'run'), { iterations: 3, pairsPerIteration: 6, hostileText: true });
  const referencePath = join(directory, 'reference.jsonl');
  await writeFile(
    referencePath,
    Array.from({ length: 12 }, (_, index) =>
      JSON.stringify({
        id: `ref-${index}`,
        user1_persona: ['I like hiking.', `I have ${index} cats.`],
        user2_persona: ['I like cooking.', 'I live by the sea.'],
        turns: Array.from({ length: 10 + 2 * (index % 6) }, (_, turn) => ({
          speaker: turn % 2 ? 'User 2' : 'User 1',
          text: `reference line ${turn} of ${index}`,
        })),
      }),
    ).join('\n') + '\n',
  );
  // Judge results so the report also draws the judge charts (fixture judge: always "A", minimal faithfulness replies).
  const fixture = await startFixtureServer({
    structuredResponders: {
      faithfulness_judgment: (body) => ({
        judgments: [...String(body.messages[1].content).matchAll(/^(\d+)\. /gm)].map(([, number], index) => ({
          statement: Number(number),
          label: ['inferred', 'contradicted', 'neither'][index % 3],
          rationale: 'scripted <b>rationale</b>',
        })),
      }),
      faithfulness_distractors: () => ({
        negated: ['I never write anything.'],
        contradicting: ['I cannot read or write.'],
      }),
    },
  });
  try {
    const backend = new OpenAiCompatibleBackend({
      baseUrl: fixture.baseUrl,
      generatorModel: 'unused',
      criticModel: 'fixture-judge',
    });
    await evaluateDataset({ input: run.dir, reference: referencePath, judge: { backend, samplesPerGroup: 3 } });
  } finally {
    await fixture.close();
  }
  await writeRunReport(run.dir, { reference: referencePath });
  if (hasChromium) browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await rm(directory, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('report.html in headless Chromium', () => {
  it('loads with no console errors, no network requests and no injected script running', async () => {
    const { page, problems, requests } = await openReport(join(run.dir, 'report.html'));
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    // Hostile personas, utterances and rationales are shown as text.
    await page
      .locator('li.conversation details')
      .first()
      .evaluate((element) => ((element as unknown as { open: boolean }).open = true));
    const text = await page.locator('body').innerText();
    expect(text).toContain('<script>window.__pwned = 1; alert("x")</script> & "quoted" things.');
    expect(text).toContain('</script><img src=x onerror="window.__pwned=2"> & <b>bold</b>');
    expect(await page.locator('img').count()).toBe(0);
    await page.close();
  });

  it('draws the charts with bars', async () => {
    const { page } = await openReport(join(run.dir, 'report.html'));
    const charts = await page.locator('figure.chart').evaluateAll((figures) =>
      figures.map((figure) => ({
        id: figure.getAttribute('data-chart'),
        bars: figure.querySelectorAll('svg rect.bar').length,
        width: figure.querySelector('svg')?.getBoundingClientRect().width ?? 0,
      })),
    );
    const byId = Object.fromEntries(charts.map((chart) => [chart.id, chart]));
    for (const id of [
      'acceptance',
      'acceptance-rate',
      'rejections',
      'score-copeland-candidates',
      'score-faithfulness',
      'lengths',
      'ai-detection',
      'faithfulness',
    ]) {
      expect(byId[id], id).toBeDefined();
      expect(byId[id].bars, id).toBeGreaterThan(0);
      expect(byId[id].width, id).toBeGreaterThan(100);
    }
    // Axis text is at least 11 CSS pixels as drawn, after the SVG is scaled to its column.
    const fontPixels = await page.locator('figure.chart svg').evaluateAll((svgs) =>
      svgs.map((svg) => {
        const text = svg.querySelector('text.tick');
        const scale = svg.getBoundingClientRect().width / Number(svg.getAttribute('viewBox')!.split(' ')[2]);
        return text
          ? Number.parseFloat(svg.ownerDocument.defaultView!.getComputedStyle(text).fontSize) * scale
          : Infinity;
      }),
    );
    expect(fontPixels.length).toBeGreaterThan(5);
    for (const pixels of fontPixels) expect(pixels).toBeGreaterThanOrEqual(11);
    // Lengths against the reference: two series.
    expect(await page.locator('figure[data-chart="lengths"] .legend span').allInnerTexts()).toEqual([
      'this run',
      'reference (reference.jsonl)',
    ]);
    expect(await page.locator('#statistics-table tbody tr').count()).toBeGreaterThan(8);
    expect(await page.locator('#usage-table').innerText()).toContain('60,000');
    await page.close();
  });

  it('lists the sampled conversations with verdicts and filters them', async () => {
    const { page } = await openReport(join(run.dir, 'report.html'));
    const items = page.locator('#conversation-list > li.conversation');
    expect(await items.count()).toBe(18);
    const pairs = new Set(run.candidates.map((candidate) => `${candidate.iteration}/${candidate.pair_id}`));
    const accepted = new Set(run.rows.map((row) => `${row.iteration}/${row.pair_id}`));
    expect(pairs.size).toBe(18);
    expect(await page.locator('#conversation-count').innerText()).toBe('18 of 18 shown');

    await page.selectOption('#conversation-status', 'rejected');
    expect(await page.locator('#conversation-list > li.conversation:not([hidden])').count()).toBe(
      pairs.size - accepted.size,
    );
    await page.selectOption('#conversation-status', '');
    await page.selectOption('#conversation-iteration', '2');
    expect(await page.locator('#conversation-list > li.conversation:not([hidden])').count()).toBe(6);
    await page.selectOption('#conversation-iteration', '');
    await page.fill('#conversation-search', 'pair-3-4');
    expect(await page.locator('#conversation-list > li.conversation:not([hidden])').count()).toBe(1);
    await page.fill('#conversation-search', '');

    const first = items.first();
    await first.locator('summary').click();
    expect(await first.locator('.candidate').count()).toBe(3);
    expect(await first.locator('table.verdicts').count()).toBeGreaterThan(0);
    expect(await first.locator('.turn').count()).toBeGreaterThan(4);
    expect(await first.innerText()).toMatch(/faithfulness/);
    await page.close();
  });

  it('renders a run with only conversations.jsonl, and an empty run directory, without errors', async () => {
    const partial = await createRunDirectory(join(directory, 'partial'), {
      iterations: 2,
      pairsPerIteration: 3,
      manifest: false,
      candidates: false,
    });
    await writeRunReport(partial.dir);
    const opened = await openReport(join(partial.dir, 'report.html'));
    expect(opened.problems).toEqual([]);
    expect(await opened.page.locator('#conversation-list > li.conversation').count()).toBe(partial.rows.length);
    expect(await opened.page.locator('figure[data-chart="acceptance"] rect.bar').count()).toBeGreaterThan(0);
    await opened.page.close();

    const empty = join(directory, 'empty');
    await mkdir(empty);
    await writeRunReport(empty);
    const html = readFileSync(join(empty, 'report.html'), 'utf8');
    expect(html).toContain('No conversations in this run yet.');
    const blank = await openReport(join(empty, 'report.html'));
    expect(blank.problems).toEqual([]);
    expect(await blank.page.locator('#conversation-list').count()).toBe(1);
    await blank.page.close();
  });
});

describe('report.html is self-contained', () => {
  it('references no external resource', () => {
    const html = readFileSync(join(run.dir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(html.match(/<script>/g)).toHaveLength(1);
  });
});
