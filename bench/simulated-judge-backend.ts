/**
 * A simulated LLM that knows the truth, for the selection bench: an `LlmBackend` (the real port)
 * that writes candidate conversations with latent qualities and answers every critic prompt the
 * real critique code builds from those qualities, with configurable noise and position bias.
 *
 * - Generator requests: each sample is a seed conversation tagged with a candidate id
 *   (`ref-<id>` in its first utterance); the candidate's latent quality per ranker dimension is
 *   uniform in 0..1, and it is unfaithful / toxic with fixed probabilities. Everything is drawn
 *   from (world seed, prompt, request seed, sample), so every scheme judges identical candidates.
 * - Judge requests perceive a quality as `quality + N(0, noise)`; with probability
 *   `positionBias` a dimension's answer favours the first-shown conversation instead. Filter
 *   checks answer wrongly with probability `filterErrorRate`.
 * - Usage: ~4 characters per token for prompt (messages and JSON schema) and reply; the prompt
 *   tokens a provider could serve from its prompt cache (a prefix of ≥ 1,024 tokens seen before,
 *   in 128-token steps, as OpenAI does) are counted in `cachedPromptTokens`.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { CompletionRequest, CompletionResult, LlmBackend } from '../src/llm/llm-backend.ts';
import { estimateTokens } from '../src/llm/estimate-tokens.ts';
import { renderConversation } from '../src/util/render-conversation.ts';
import { deriveRandom, type Random } from '../src/util/create-random.ts';
import type { Turn } from '../src/schemas/turn.ts';

export interface JudgeSimulation {
  /** Standard deviation of the judge's perception noise, on the 0..1 quality scale. */
  noise: number;
  /** Probability that one dimension's answer favours the first-shown conversation. */
  positionBias: number;
  /** Probability that a filter check (faithfulness, toxicity, contradiction) answers wrongly. */
  filterErrorRate: number;
  /** Seed of the judge's randomness (two runs with different seeds are independent judges). */
  judgeSeed: number;
}

/** The truth about one candidate. */
export interface LatentCandidate {
  id: string;
  /** Quality per ranker dimension, 0..1. */
  quality: Record<string, number>;
  unfaithful: boolean;
  toxic: boolean;
}

export interface SimulatedUsageTotals {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens: number;
  byKind: Record<string, { calls: number; tokens: number }>;
}

const UNFAITHFUL_RATE = 0.15;
const TOXIC_RATE = 0.03;
const CACHE_BLOCK_CHARS = 128 * 4;
const CACHE_MIN_CHARS = 1024 * 4;
const RATIONALE =
  'Both conversations fit the profiles; the chosen one explores its topics with more concrete detail and follow-up questions.';

const seedConversations: Turn[][] = readFileSync(new URL('../seeds/conversations.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((line) => (JSON.parse(line) as { turns: Turn[] }).turns);

export class SimulatedJudgeBackend implements LlmBackend {
  readonly kind = 'simulated-judge';
  readonly totals: SimulatedUsageTotals = {
    calls: 0,
    promptTokens: 0,
    completionTokens: 0,
    cachedPromptTokens: 0,
    byKind: {},
  };
  /** Every candidate the simulated generator wrote, by id. */
  readonly candidates = new Map<string, LatentCandidate>();
  private readonly random: Random;
  private readonly seenPrefixes = new Set<string>();

  constructor(
    private readonly worldSeed: number,
    private readonly dimensions: readonly string[],
    private simulation: JudgeSimulation,
  ) {
    this.random = deriveRandom(simulation.judgeSeed, 'judge');
  }

  modelFor(): string {
    return 'simulated';
  }

  async dispose(): Promise<void> {}

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    const kind = request.jsonSchema?.name ?? 'generator';
    const texts = kind === 'generator' ? this.generate(request) : [JSON.stringify(this.judge(kind, request))];
    const promptText = request.messages.map((message) => message.content).join('\n');
    const schemaText = request.jsonSchema ? JSON.stringify(request.jsonSchema.schema) : '';
    const promptTokens = estimateTokens(promptText) + estimateTokens(schemaText);
    const completionTokens = texts.reduce((sum, text) => sum + estimateTokens(text), 0);
    const totals = this.totals;
    totals.calls += 1;
    totals.promptTokens += promptTokens;
    totals.completionTokens += completionTokens;
    totals.cachedPromptTokens += Math.min(promptTokens, this.cachedTokensOf(schemaText + promptText));
    const bucket = (totals.byKind[bucketOf(kind)] ??= { calls: 0, tokens: 0 });
    bucket.calls += 1;
    bucket.tokens += promptTokens + completionTokens;
    return { texts, model: 'simulated', usage: { promptTokens, completionTokens, calls: 1 } };
  }

  /** The longest prefix (whole 128-token blocks, ≥ 1,024 tokens) an earlier prompt shared; records this prompt's prefixes. */
  private cachedTokensOf(text: string): number {
    const hash = createHash('sha256');
    let cachedChars = 0;
    let missed = false;
    for (let end = CACHE_BLOCK_CHARS; end <= text.length; end += CACHE_BLOCK_CHARS) {
      hash.update(text.slice(end - CACHE_BLOCK_CHARS, end));
      const key = hash.copy().digest('base64');
      if (!missed && this.seenPrefixes.has(key)) cachedChars = end;
      else missed = true;
      this.seenPrefixes.add(key);
    }
    return cachedChars >= CACHE_MIN_CHARS ? cachedChars / 4 : 0;
  }

  private generate(request: CompletionRequest): string[] {
    const prompt = request.messages.map((message) => message.content).join('\n');
    const samples = request.samples ?? 1;
    return Array.from({ length: samples }, (_, sample) => {
      const id = createHash('sha256')
        .update(`${this.worldSeed}/${request.seed}/${sample}/${prompt}`)
        .digest('hex')
        .slice(0, 10);
      const random = deriveRandom(this.worldSeed, `candidate/${id}`);
      const quality = Object.fromEntries(this.dimensions.map((name) => [name, random()]));
      this.candidates.set(id, { id, quality, unfaithful: random() < UNFAITHFUL_RATE, toxic: random() < TOXIC_RATE });
      const turns = seedConversations[Math.floor(random() * seedConversations.length)].map((turn) => ({ ...turn }));
      turns[0].text = `${turns[0].text} ref-${id}`;
      return renderConversation(turns);
    });
  }

  private candidateIn(block: string): LatentCandidate {
    const id = /ref-([0-9a-f]{10})/.exec(block)?.[1];
    const candidate = id === undefined ? undefined : this.candidates.get(id);
    if (!candidate) throw new Error(`simulated judge: no known candidate in the prompt block "${block.slice(0, 80)}…"`);
    return candidate;
  }

  private perceive(candidate: LatentCandidate, dimension: string): number {
    return candidate.quality[dimension] + gaussian(this.random) * this.simulation.noise;
  }

  private check(truth: boolean): boolean {
    return this.random() < this.simulation.filterErrorRate ? !truth : truth;
  }

  /** Which of two shown conversations wins one dimension. */
  private pick(first: LatentCandidate, second: LatentCandidate, dimension: string): 'A' | 'B' {
    if (this.random() < this.simulation.positionBias) return 'A';
    return this.perceive(first, dimension) >= this.perceive(second, dimension) ? 'A' : 'B';
  }

  private judge(kind: string, request: CompletionRequest): Record<string, unknown> {
    const prompt = request.messages.map((message) => message.content).join('\n');
    const blocks = [...prompt.matchAll(/<conversation(?: id="([^"]+)")?>\n([\s\S]*?)\n<\/conversation>/g)];
    if (kind === 'contradiction_check') return { rationale: RATIONALE, contradicts: this.check(false) };
    if (kind === 'contradiction_checks') {
      const items = [...prompt.matchAll(/<item id="(\d+)">/g)].map((match) => match[1]);
      return {
        verdicts: Object.fromEntries(
          items.map((id) => [id, { rationale: RATIONALE.slice(0, 60), contradicts: this.check(false) }]),
        ),
      };
    }
    if (kind.startsWith('critic_')) {
      const candidate = this.candidateIn(blocks[0][2]);
      const field = kind === 'critic_toxicity' ? 'toxic' : 'contradicts';
      const truth = kind === 'critic_toxicity' ? candidate.toxic : candidate.unfaithful;
      return { rationale: RATIONALE, [field]: this.check(truth), confidence: 0.9 };
    }
    if (kind.startsWith('filter_panel_')) {
      // Each check answers as wrongly as the separate filter critic would (filterErrorRate).
      const candidate = this.candidateIn(blocks[0][2]);
      return {
        rationale: RATIONALE,
        contradicts: this.check(candidate.unfaithful),
        toxic: this.check(candidate.toxic),
        confidence: 0.9,
      };
    }
    const shown = blocks.map((block) => this.candidateIn(block[2]));
    if (kind.startsWith('pairwise_')) {
      return { rationale: RATIONALE, winner: this.pick(shown[0], shown[1], kind.slice('pairwise_'.length)) };
    }
    if (kind.startsWith('panel_')) {
      return Object.fromEntries(
        this.dimensions.map((name) => [name, { rationale: RATIONALE, winner: this.pick(shown[0], shown[1], name) }]),
      );
    }
    if (kind.startsWith('listwise_')) {
      const folded = prompt.includes('Checks (answer each for every conversation)');
      const scores: Record<string, Record<string, number | boolean>> = {};
      const perceived = shown.map((candidate) =>
        Object.fromEntries(this.dimensions.map((name) => [name, toScore(this.perceive(candidate, name))])),
      );
      for (const name of this.dimensions) {
        if (shown.length > 1 && this.random() < this.simulation.positionBias) {
          perceived[0][name] = Math.min(10, Math.max(...perceived.slice(1).map((item) => item[name])) + 1);
        }
      }
      shown.forEach((candidate, position) => {
        scores[String(position + 1)] = {
          ...perceived[position],
          ...(folded && { contradicts: this.check(candidate.unfaithful), toxic: this.check(candidate.toxic) }),
        };
      });
      return { rationale: `${RATIONALE} ${RATIONALE}`, scores };
    }
    throw new Error(`simulated judge: unknown request kind ${kind}`);
  }
}

function bucketOf(kind: string): string {
  if (kind === 'generator') return 'generator';
  if (kind.startsWith('contradiction_check')) return 'planning';
  if (kind.startsWith('critic_') || kind.startsWith('filter_panel_')) return 'filters';
  return 'rankers';
}

function toScore(perceived: number): number {
  return Math.min(10, Math.max(1, Math.round(1 + 9 * perceived)));
}

function gaussian(random: Random): number {
  const u = Math.max(random(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
