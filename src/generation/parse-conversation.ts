import type { Speaker, Turn } from '../schemas/turn.ts';
import { matchSpeakerLabel } from '../util/match-speaker-label.ts';
import { findTwoNamedSpeakers, matchNamedSpeaker } from '../util/find-two-named-speakers.ts';

/**
 * Kinds of repair `parseConversation` makes to a generator reply, counted per reply:
 * - `code_fence`: the conversation was inside ``` / ~~~ fences (fence lines dropped);
 * - `preamble`: lines before the first speaker line ("Sure! Here is the conversation:") dropped;
 * - `closing_remark`: lines after the conversation ("I hope this helps!") dropped;
 * - `markdown_speaker_tags`: labels wrapped in Markdown (`**User 1:**`, `* * User 2: * *`);
 * - `speaker_label_variants`: labels in another case, spacing or separator (`user 1 :`, `USER2 -`);
 * - `blank_lines`: blank lines between turns;
 * - `continuation_lines`: unlabeled lines joined to the utterance they continue;
 * - `stage_directions`: narration lines (`[They laugh]`, `*Later*`, `---`) dropped;
 * - `named_speakers`: two named speakers (`Larry:` / `Amy:`) instead of `User 1/2` (first = User 1);
 * - `json_turns`: the reply was a JSON list of `{speaker, text}` turns instead of lines.
 */
export const PARSE_REPAIR_KINDS = [
  'code_fence',
  'preamble',
  'closing_remark',
  'markdown_speaker_tags',
  'speaker_label_variants',
  'blank_lines',
  'continuation_lines',
  'stage_directions',
  'named_speakers',
  'json_turns',
] as const;
export type ParseRepairKind = (typeof PARSE_REPAIR_KINDS)[number];

export interface ParsedConversation {
  turns: Turn[];
  /** Why the reply could not be read as a conversation; absent when it parsed. */
  parseError?: string;
  /** Repair kind -> how many lines (labels, gaps, fences) it touched; only kinds that occurred. */
  repairs: Partial<Record<ParseRepairKind, number>>;
}

const FENCE = /^\s*(?:```|~~~)/;
// A whole line in brackets/parentheses, single-star or underscore emphasis, or a horizontal rule.
const STAGE_DIRECTION = /^\s*(?:\[[^\]]*\]|\([^)]*\)|\*[^*]+\*|_[^_]+_)\s*$/;
const RULE = /^\s*(?:-{3,}|\*{3,}|_{3,}|(?:\*\s*){3,})\s*$/;
// What models say once the conversation is over.
const CLOSING_REMARK =
  /^[\s*_]*(?:i hope|hope (?:this|that|you)|let me know|feel free|this conversation|in this conversation|note:|i've written|i have written|would you like|enjoy!?$|here you go)/i;

interface Line {
  text: string;
  /** A blank line, fence or rule came between this line and the previous text. */
  afterBreak: boolean;
}

/**
 * Parses a generator reply into `User 1` / `User 2` turns, accepting what chat models write around a
 * conversation: preambles, code fences, Markdown speaker tags, label variants, blank lines, stage
 * directions and closing remarks are dropped or joined, and each kind of repair is counted in
 * `repairs`. Unlabeled lines continue the previous utterance, unless they come after a break at the
 * end (then they are a closing remark). Alternation is not enforced here: the lint checks judge it,
 * so a bad candidate is recorded (with its raw text) rather than lost.
 */
export function parseConversation(rawText: string): ParsedConversation {
  const repairs: ParsedConversation['repairs'] = {};
  const count = (kind: ParseRepairKind, by = 1) => {
    repairs[kind] = (repairs[kind] ?? 0) + by;
  };
  const lines = rawText.split(/\r?\n/);
  const named = lines.some((line) => matchSpeakerLabel(line.trim()) !== undefined)
    ? undefined
    : findTwoNamedSpeakers(lines, (line) => STAGE_DIRECTION.test(line) || RULE.test(line) || FENCE.test(line));
  if (named) count('named_speakers');
  const turns: Turn[] = [];
  /** Unlabeled lines after the latest turn, not yet known to be a continuation or a closing remark. */
  let pending: Line[] = [];
  let brokeSinceText = false;
  const settlePending = () => {
    if (pending.length > 0) count('continuation_lines', pending.length);
    const last = turns.at(-1)!;
    for (const line of pending) last.text = last.text ? `${last.text} ${line.text}` : line.text;
    pending = [];
  };

  for (const rawLine of lines) {
    const line = rawLine.trim();
    if (line === '') {
      brokeSinceText = true;
      continue;
    }
    if (FENCE.test(line)) {
      count('code_fence');
      brokeSinceText = true;
      continue;
    }
    const label = named ? matchNamedSpeaker(line, named) : matchSpeakerLabel(line);
    if (label) {
      if (turns.length > 0) {
        settlePending();
        if (brokeSinceText) count('blank_lines');
      }
      if (label.decorated) count('markdown_speaker_tags');
      if (label.variant) count('speaker_label_variants');
      turns.push({ speaker: label.speaker, text: stripEmphasis(label.text) });
      brokeSinceText = false;
      continue;
    }
    if (RULE.test(line)) {
      brokeSinceText = true;
      if (turns.length > 0) count('stage_directions');
      else count('preamble');
      continue;
    }
    if (turns.length === 0) {
      count('preamble');
      brokeSinceText = false;
      continue;
    }
    if (STAGE_DIRECTION.test(line)) {
      count('stage_directions');
      continue;
    }
    pending.push({ text: stripEmphasis(line), afterBreak: brokeSinceText });
    brokeSinceText = false;
  }

  if (turns.length > 0) {
    // Trailing unlabeled lines: from the first one after a break, or the first that reads like a
    // remark, to the end, they are the model talking to the user.
    // A label alone on its line is followed by its utterance even after a blank line.
    const labelOnly = turns.at(-1)!.text === '';
    const closingAt = pending.findIndex(
      (line, index) => (line.afterBreak && !(labelOnly && index === 0)) || CLOSING_REMARK.test(line.text),
    );
    if (closingAt !== -1) {
      count('closing_remark', pending.length - closingAt);
      pending = pending.slice(0, closingAt);
    }
    settlePending();
  }
  if (turns.length === 0) {
    const fromJson = readJsonTurns(rawText);
    if (fromJson) {
      return {
        turns: fromJson,
        repairs: { ...(repairs.code_fence && { code_fence: repairs.code_fence }), json_turns: 1 },
      };
    }
    return { turns: [], parseError: 'no "User 1:" / "User 2:" lines found in the reply', repairs };
  }
  const nonEmpty = turns.filter((turn) => turn.text.length > 0);
  if (nonEmpty.length < turns.length) {
    return { turns: nonEmpty, parseError: `${turns.length - nonEmpty.length} empty utterance(s)`, repairs };
  }
  return { turns: nonEmpty, repairs };
}

/** A reply that is a JSON list of `{speaker, text}` (or `{turns: [...]}`), possibly fenced. */
function readJsonTurns(rawText: string): Turn[] | undefined {
  const body = rawText.replace(/^\s*(?:```|~~~)[^\n]*\n?/gm, '').trim();
  const start = body.search(/[[{]/);
  if (start === -1) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(body.slice(start));
  } catch {
    return undefined;
  }
  const list = Array.isArray(data)
    ? data
    : ((data as { turns?: unknown; conversation?: unknown })?.turns ??
      (data as { conversation?: unknown })?.conversation);
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const turns: Turn[] = [];
  for (const item of list) {
    const { speaker, text } = (item ?? {}) as { speaker?: unknown; text?: unknown };
    const label = typeof speaker === 'string' ? matchSpeakerLabel(`${speaker.trim()}:`) : undefined;
    if (!label || typeof text !== 'string' || text.trim() === '') return undefined;
    turns.push({ speaker: label.speaker as Speaker, text: text.trim() });
  }
  return turns;
}

/** Removes Markdown emphasis markers wrapping an utterance (`**hi**` -> `hi`). */
function stripEmphasis(text: string): string {
  return text
    .replace(/^[\s*_]+(?=\S)/, '')
    .replace(/(?<=\S)[\s*_]*\*[\s*_]*$/, '')
    .trim();
}
