/**
 * A simulated OpenAI-compatible chat completions endpoint on 127.0.0.1 for benchmarks.
 *
 * Latency model (exact, so the ideal throughput is known):
 * - every request needs `fixedLatencyMs + 1000 × outputTokens / outputTokensPerSecond` of service
 *   (`outputTokens` = the longest choice of the reply, as `n` samples decode side by side);
 * - at most `maxConcurrent` requests are served at once; the rest wait in FIFO order.
 * The queue is kept in virtual time: on arrival a request is given the earliest-free slot and its
 * exact start and end (`start = max(arrival, slot free)`), and its reply is sent at `end`. A late
 * timer therefore delays only that reply, never the next request in the slot, so a busy
 * simulator is exactly 100 % busy and any idle slot time is the client's doing.
 * Ideal throughput = maxConcurrent / mean service time; `stats().efficiency` is
 * Σ service / (maxConcurrent × window), i.e. achieved calls/s ÷ ideal calls/s over the window
 * from the first arrival to the last reply.
 *
 * It answers every request kind persona-forge makes, by `response_format.json_schema.name`:
 * generator (a lint-clean conversation for the target pair, `turns.min..max` utterances varying
 * per sample), `critic_<name>` (passes, confidence 0.9), `pairwise_<name>` (more utterances wins,
 * ties by an order-free hash), `panel_<name>` (the same rule per dimension, optionally noisy),
 * `contradiction_check` (compatible), anything else (a minimal schema-valid object).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { minimalValue, rephraseAttribute } from '../tests/fixtures/openai-fixture-server.ts';

export interface LatencyModel {
  /** Requests served at once; more wait in FIFO order. */
  maxConcurrent: number;
  /** Fixed service time of every request, in ms. */
  fixedLatencyMs: number;
  /** Output tokens per second of one request; 0 = output takes no time. */
  outputTokensPerSecond: number;
}

export interface SimulatedEndpointOptions extends LatencyModel {
  /** Utterances of a generated conversation, varied per pair and sample. @defaultValue { min: 10, max: 18 } */
  turns?: { min: number; max: number };
  /**
   * Chance (0..1) that a `panel_*` reply flips one dimension's winner, drawn per dimension and per
   * order from a hash of the request, so the orders can disagree. @defaultValue 0
   */
  panelNoise?: number;
  /** The same for `pairwise_*` replies. @defaultValue 0 */
  expertNoise?: number;
  /**
   * Share (0..1) of chat requests that hang: never answered (the connection stays open until the
   * client gives up), taking no slot. Drawn per request from a hash of its arrival number, so a
   * run sees the same hangs at the same positions. @defaultValue 0
   */
  hangShare?: number;
}

export interface SimulatedEndpointStats {
  requests: number;
  byKind: Record<string, number>;
  /** Prompt and completion tokens per request kind. */
  tokensByKind: Record<string, { prompt: number; completion: number }>;
  promptTokens: number;
  completionTokens: number;
  /** Σ nominal service time, ms. */
  serviceMs: number;
  /** First arrival to last nominal reply, ms (0 before any request). */
  windowMs: number;
  /** Σ service / (maxConcurrent × window): achieved ÷ ideal throughput. */
  efficiency: number;
  /** maxConcurrent / mean service time, requests per second. */
  idealCallsPerSecond: number;
  achievedCallsPerSecond: number;
  /** Most requests waiting for a slot at one arrival. */
  maxWaiting: number;
  /** Mean and worst delay of sent replies past their nominal end, ms (timer and event-loop lag). */
  meanReplyLagMs: number;
  maxReplyLagMs: number;
  /** CPU time of this process since the last reset, ms. */
  cpuMs: number;
  /** Requests left hanging (`hangShare`). */
  hung: number;
  /** Busy share of the slots in each second of the window (where idle time went). */
  utilizationBySecond: number[];
}

export interface SimulatedEndpoint {
  /** e.g. `http://127.0.0.1:41234/v1`. */
  baseUrl: string;
  options: SimulatedEndpointOptions;
  stats(): SimulatedEndpointStats;
  /** Starts a new measurement window (counters to zero). */
  reset(): void;
  setOptions(partial: Partial<Pick<SimulatedEndpointOptions, 'panelNoise' | 'expertNoise' | 'hangShare'>>): void;
  close(): Promise<void>;
}

const OPENERS = ['well,', 'honestly,', 'oh,', 'you know,', 'haha,', 'so,', 'ah,', 'right,'];
const QUESTIONS = ['what about you?', 'do you like that too?', 'how about yourself?', 'and you?', 'what do you think?'];
const FILTER_RATIONALE =
  'The conversation stays consistent with both profiles: every statement fits the listed attributes, nothing contradicts them, and the tone stays friendly and respectful throughout.';
const PAIRWISE_RATIONALE =
  'Both conversations fit the profiles, but the winner develops its topics further, with follow-up questions and concrete details, while the other one moves on more quickly.';

/** What the simulated endpoint answers to one chat completions body (no latency, no HTTP). */
export interface SimulatedReply {
  kind: string;
  texts: string[];
  promptTokens: number;
  completionTokens: number;
  /** Tokens of the longest choice (choices decode side by side). */
  longestChoiceTokens: number;
}

/**
 * The simulator's answers as a pure function of the request body, shared by the HTTP endpoint and
 * by in-process experiments. Reads `options` on every call, so noise can change between runs.
 */
export function createReplyGenerator(
  options: Pick<SimulatedEndpointOptions, 'turns' | 'panelNoise' | 'expertNoise'>,
): (body: any) => SimulatedReply {
  function generatorReply(prompt: string, sampleIndex: number): string {
    const { user1, user2, key } = targetPair(prompt);
    const { min, max } = options.turns!;
    const turnCount = min + ((hash32(key) + sampleIndex * 7) % (max - min + 1));
    const lines: string[] = [];
    for (let turn = 0; turn < turnCount; turn++) {
      const persona = turn % 2 === 0 ? user1 : user2;
      const attribute = persona[(Math.floor(turn / 2) + sampleIndex) % persona.length];
      const opener = OPENERS[(turn + sampleIndex * 3) % OPENERS.length];
      const question = QUESTIONS[(turn + sampleIndex) % QUESTIONS.length];
      lines.push(`User ${(turn % 2) + 1}: ${opener} ${rephraseAttribute(attribute)}. ${question}`);
    }
    return lines.join('\n');
  }

  function structuredReply(kind: string, prompt: string, body: any): string {
    if (kind.startsWith('critic_')) {
      const schema = body.response_format?.json_schema?.schema;
      const properties = schema?.properties ?? {};
      const field = Object.keys(properties).find((key) => properties[key]?.type === 'boolean') ?? 'flagged';
      return JSON.stringify({ rationale: FILTER_RATIONALE, [field]: false, confidence: 0.9 });
    }
    if (kind.startsWith('pairwise_') || kind.startsWith('panel_')) {
      const first = between(prompt, '<conversation id="A">', '</conversation>');
      const second = between(prompt, '<conversation id="B">', '</conversation>');
      const base = preferredWinner(first, second);
      if (kind.startsWith('pairwise_')) {
        return JSON.stringify({
          rationale: PAIRWISE_RATIONALE,
          winner: noisy(base, kind, first, second, options.expertNoise ?? 0),
        });
      }
      const dimensions = Object.keys(body.response_format?.json_schema?.schema?.properties ?? {});
      const reply: Record<string, { rationale: string; winner: 'A' | 'B' }> = {};
      for (const name of dimensions)
        reply[name] = {
          rationale: PAIRWISE_RATIONALE,
          winner: noisy(base, name, first, second, options.panelNoise ?? 0),
        };
      return JSON.stringify(reply);
    }
    if (kind === 'contradiction_check') return JSON.stringify({ contradicts: false, rationale: 'compatible' });
    const minimal = minimalValue(body.response_format?.json_schema?.schema ?? {});
    return JSON.stringify(
      typeof minimal === 'object' && minimal !== null && !Array.isArray(minimal) ? minimal : { value: minimal },
    );
  }

  return (body: any): SimulatedReply => {
    const messages: Array<{ content?: unknown }> = body.messages ?? [];
    const prompt = messages.length ? String(messages[messages.length - 1].content ?? '') : '';
    let promptChars = 0;
    for (const message of messages) promptChars += String(message.content ?? '').length;
    const kind: string = body.response_format?.json_schema?.name ?? 'generator';
    const n = Number.isInteger(body.n) && body.n > 1 ? body.n : 1;
    const texts: string[] = [];
    for (let choice = 0; choice < n; choice++) {
      texts.push(
        kind === 'generator'
          ? generatorReply(prompt, n > 1 ? choice : sampleFromSeed(body.seed))
          : structuredReply(kind, prompt, body),
      );
    }
    let completionTokens = 0;
    let longestChoiceTokens = 0;
    for (const text of texts) {
      const tokens = estimateTokens(text);
      completionTokens += tokens;
      longestChoiceTokens = Math.max(longestChoiceTokens, tokens);
    }
    return { kind, texts, promptTokens: Math.ceil(promptChars / 4), completionTokens, longestChoiceTokens };
  };
}

export async function startSimulatedEndpoint(initial: SimulatedEndpointOptions): Promise<SimulatedEndpoint> {
  const options: SimulatedEndpointOptions = { turns: { min: 10, max: 18 }, panelNoise: 0, expertNoise: 0, ...initial };
  if (!Number.isInteger(options.maxConcurrent) || options.maxConcurrent < 1) {
    throw new TypeError(`Expected \`maxConcurrent\` to be a positive integer, got ${options.maxConcurrent}.`);
  }
  const slotFreeAt = new Float64Array(options.maxConcurrent);
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let counters = freshCounters();
  const reply = createReplyGenerator(options);

  function freshCounters() {
    return {
      requests: 0,
      arrivals: 0,
      hung: 0,
      byKind: {} as Record<string, number>,
      tokensByKind: {} as Record<string, { prompt: number; completion: number }>,
      promptTokens: 0,
      completionTokens: 0,
      serviceMs: 0,
      firstArrival: Number.NaN,
      lastEnd: Number.NaN,
      maxWaiting: 0,
      lagSum: 0,
      lagMax: 0,
      replies: 0,
      cpu: process.cpuUsage(),
      pendingStarts: [] as number[],
      busyMsBySecond: [] as number[],
    };
  }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        route(request, response, Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        send(response, 500, JSON.stringify({ error: { message: `simulator failure: ${String(error)}` } }));
      }
    });
  });
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  server.requestTimeout = 0;
  server.on('connection', (socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  function route(request: IncomingMessage, response: ServerResponse, rawBody: string): void {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && path === '/v1/models') {
      send(
        response,
        200,
        JSON.stringify({ object: 'list', data: [{ id: 'simulated', object: 'model', created: 0, owned_by: 'bench' }] }),
      );
      return;
    }
    if (request.method !== 'POST' || path !== '/v1/chat/completions') {
      send(response, 404, JSON.stringify({ error: { message: `simulator: no route ${request.method} ${path}` } }));
      return;
    }
    const arrival = performance.now();
    counters.arrivals += 1;
    if (options.hangShare && hashUnit(counters.arrivals) < options.hangShare) {
      // Never answered: the client's deadline or timeout ends it (close() destroys the socket).
      counters.hung += 1;
      return;
    }
    const body = JSON.parse(rawBody);
    const { kind, texts, promptTokens, completionTokens, longestChoiceTokens } = reply(body);
    const serviceMs =
      options.fixedLatencyMs +
      (options.outputTokensPerSecond > 0 ? (1000 * longestChoiceTokens) / options.outputTokensPerSecond : 0);

    // Earliest-free slot; FIFO in virtual time.
    let slot = 0;
    for (let index = 1; index < slotFreeAt.length; index++) if (slotFreeAt[index] < slotFreeAt[slot]) slot = index;
    const start = Math.max(arrival, slotFreeAt[slot]);
    const end = start + serviceMs;
    slotFreeAt[slot] = end;

    const c = counters;
    c.requests += 1;
    c.byKind[kind] = (c.byKind[kind] ?? 0) + 1;
    const kindTokens = (c.tokensByKind[kind] ??= { prompt: 0, completion: 0 });
    kindTokens.prompt += promptTokens;
    kindTokens.completion += completionTokens;
    c.promptTokens += promptTokens;
    c.completionTokens += completionTokens;
    c.serviceMs += serviceMs;
    if (Number.isNaN(c.firstArrival)) c.firstArrival = arrival;
    // Spread the service time over the seconds of the window it falls in (offsets from the first
    // arrival, so every step ends on an exact multiple of 1000 and the loop always advances).
    for (let from = start - c.firstArrival, until = end - c.firstArrival; from < until;) {
      const second = Math.floor(from / 1000);
      const stop = Math.min(until, (second + 1) * 1000);
      c.busyMsBySecond[second] = (c.busyMsBySecond[second] ?? 0) + (stop - from);
      from = stop;
    }
    if (!(c.lastEnd >= end)) c.lastEnd = end;
    if (start > arrival) {
      // Requests still waiting for a slot: those whose start is after now.
      c.pendingStarts.push(start);
      const kept: number[] = [];
      for (const pendingStart of c.pendingStarts) if (pendingStart > arrival) kept.push(pendingStart);
      c.pendingStarts = kept;
      const waiting = kept.length;
      if (waiting > c.maxWaiting) c.maxWaiting = waiting;
    }

    const payload = JSON.stringify({
      id: `chatcmpl-sim-${c.requests}`,
      object: 'chat.completion',
      created: 1_700_000_000,
      model: String(body.model ?? 'simulated'),
      choices: texts.map((content, index) => ({
        index,
        message: { role: 'assistant', content },
        finish_reason: 'stop',
        logprobs: null,
      })),
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    });
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        const lag = performance.now() - end;
        if (counters === c) {
          c.lagSum += Math.max(0, lag);
          c.lagMax = Math.max(c.lagMax, lag);
          c.replies += 1;
        }
        send(response, 200, payload);
      },
      Math.max(0, end - performance.now()),
    );
    timers.add(timer);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    options,
    stats() {
      const c = counters;
      const windowMs = c.requests ? c.lastEnd - c.firstArrival : 0;
      const cpu = process.cpuUsage(c.cpu);
      const meanService = c.requests ? c.serviceMs / c.requests : 0;
      return {
        requests: c.requests,
        byKind: { ...c.byKind },
        tokensByKind: structuredClone(c.tokensByKind),
        promptTokens: c.promptTokens,
        completionTokens: c.completionTokens,
        serviceMs: c.serviceMs,
        windowMs,
        efficiency: windowMs > 0 ? c.serviceMs / (options.maxConcurrent * windowMs) : 0,
        idealCallsPerSecond: meanService > 0 ? (1000 * options.maxConcurrent) / meanService : 0,
        achievedCallsPerSecond: windowMs > 0 ? (1000 * c.requests) / windowMs : 0,
        maxWaiting: c.maxWaiting,
        meanReplyLagMs: c.replies ? c.lagSum / c.replies : 0,
        maxReplyLagMs: c.lagMax,
        cpuMs: (cpu.user + cpu.system) / 1000,
        hung: c.hung,
        utilizationBySecond: Array.from(
          c.busyMsBySecond,
          (busy) => Math.round(((busy ?? 0) / (1000 * options.maxConcurrent)) * 1000) / 1000,
        ),
      };
    },
    reset() {
      counters = freshCounters();
    },
    setOptions(partial) {
      Object.assign(options, partial);
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** The target pair: the LAST `User 1 persona:` … `Conversation:` block of the generator prompt. */
function targetPair(prompt: string): { user1: string[]; user2: string[]; key: string } {
  const start = prompt.lastIndexOf('User 1 persona:');
  const middle = start === -1 ? -1 : prompt.indexOf('User 2 persona:', start);
  const end = middle === -1 ? -1 : prompt.indexOf('Conversation:', middle);
  if (end === -1) return { user1: ['I like talking.'], user2: ['I like listening.'], key: prompt.slice(-200) };
  const bullets = (text: string) => {
    const items = text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith('-'))
      .map((line) => line.replace(/^-\s*/, ''));
    return items.length ? items : ['I like talking.'];
  };
  return {
    user1: bullets(prompt.slice(start, middle)),
    user2: bullets(prompt.slice(middle, end)),
    key: prompt.slice(start, end),
  };
}

/** More utterances wins; equal counts go to the smaller content hash, whichever slot it is in. */
function preferredWinner(first: string, second: string): 'A' | 'B' {
  const firstCount = countUtterances(first);
  const secondCount = countUtterances(second);
  if (firstCount !== secondCount) return firstCount > secondCount ? 'A' : 'B';
  return hash32(first.trim()) <= hash32(second.trim()) ? 'A' : 'B';
}

/** Flips `winner` with probability `noise`, drawn from the label and the texts in their shown order. */
function noisy(winner: 'A' | 'B', label: string, first: string, second: string, noise: number): 'A' | 'B' {
  if (noise <= 0) return winner;
  const draw = hash32(`${label}\u0000${first}\u0000${second}`) / 0x1_0000_0000;
  return draw < noise ? (winner === 'A' ? 'B' : 'A') : winner;
}

function sampleFromSeed(seed: unknown): number {
  return typeof seed === 'number' && Number.isFinite(seed) ? Math.abs(Math.trunc(seed)) % 1000 : 0;
}

function between(text: string, open: string, close: string): string {
  const start = text.lastIndexOf(open);
  if (start === -1) return '';
  const end = text.indexOf(close, start + open.length);
  return end === -1 ? '' : text.slice(start + open.length, end);
}

function countUtterances(conversation: string): number {
  let count = 0;
  for (const line of conversation.split('\n')) if (line.startsWith('User 1:') || line.startsWith('User 2:')) count += 1;
  return count;
}

function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** A number in [0, 1) from `n` (the hang draw of arrival number `n`): murmur3's finalizer, so neighbours are independent. */
function hashUnit(n: number): number {
  let x = Math.imul(n, 0x9e3779b1) ^ 0x5bd1e995;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return ((x ^ (x >>> 16)) >>> 0) / 2 ** 32;
}

/** FNV-1a, 32 bits: cheap and deterministic. */
function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function send(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  response.end(text);
}
