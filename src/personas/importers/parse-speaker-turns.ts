import type { Turn } from '../../schemas/turn.ts';
import { matchSpeakerLabel } from '../../util/match-speaker-label.ts';
import { findTwoNamedSpeakers, matchNamedSpeaker } from '../../util/find-two-named-speakers.ts';

/** What `parseSpeakerTurnsDetailed` did to the text besides splitting it, for import reports. */
export interface SpeakerTurnsParse {
  turns: Turn[];
  /**
   * Non-empty lines before the first `User 1:` / `User 2:` line. When the first label is `User 2`
   * they are taken as User 1's unlabeled opening; otherwise they are dropped.
   */
  preambleLines: number;
  /** Stage directions such as `[Later]`, `(They walk together.)` or `*At the bar*` (dropped). */
  stageDirections: number;
  /** Lines without a speaker label appended to the previous utterance. */
  continuationLines: number;
  /** Consecutive utterances of one speaker merged into one turn (keeps turns alternating). */
  mergedTurns: number;
  /**
   * The kinds of repair this text needed, for per-record counts: `markdown_speaker_tags`,
   * `speaker_label_variants`, `named_speakers`, `blank_lines`, `stage_directions`, `preamble`,
   * `continuation_lines`, `merged_turns`, `empty_turns`. Empty when the text was clean.
   */
  repairs: Set<string>;
}

// A whole line in brackets or parentheses, a `* * *` separator, or a whole line in single-star or
// underscore emphasis (`*At the bar*`): narration, not an utterance.
const STAGE_DIRECTION = /^\s*(?:\[[^\]]*\]?|\([^)]*\)?|(?:\*\s*){2,}|\*[^*]+\*|_[^_]+_)\s*$/;

/**
 * Parses `User 1: …` / `User 2: …` lines into turns (the format of SPC's `Best Generated Conversation`).
 * Tolerates Markdown emphasis and spacing/case variants around the label (`* * User 1: * *`,
 * `**user 2 :**`), blank lines, drops stage directions and a preamble before the first label,
 * appends unlabeled lines to the previous utterance and merges consecutive utterances of one
 * speaker, so the result always alternates. A text with no `User 1/2` label but exactly two named
 * speakers (`Larry: …` / `Amy: …`) is read with the first name as User 1.
 */
export function parseSpeakerTurns(text: string): Turn[] {
  return parseSpeakerTurnsDetailed(text).turns;
}

/** `parseSpeakerTurns` plus counts of what was dropped, appended or merged. */
export function parseSpeakerTurnsDetailed(text: string): SpeakerTurnsParse {
  const lines = text.split(/\r?\n/);
  const named = lines.some((line) => matchSpeakerLabel(line.trim()) !== undefined)
    ? undefined
    : findTwoNamedSpeakers(lines, (line) => STAGE_DIRECTION.test(line));
  const result: SpeakerTurnsParse = {
    turns: [],
    preambleLines: 0,
    stageDirections: 0,
    continuationLines: 0,
    mergedTurns: 0,
    repairs: new Set(),
  };
  if (named) result.repairs.add('named_speakers');
  const preamble: string[] = [];
  let sawText = false;
  let pendingBlank = false;
  for (const rawLine of lines) {
    const line = rawLine.trim();
    if (line === '') {
      pendingBlank = sawText;
      continue;
    }
    if (pendingBlank) result.repairs.add('blank_lines');
    pendingBlank = false;
    sawText = true;
    const label = named ? matchNamedSpeaker(line, named) : matchSpeakerLabel(line);
    if (label) {
      if (label.decorated) result.repairs.add('markdown_speaker_tags');
      if (label.variant) result.repairs.add('speaker_label_variants');
      const utterance = stripEmphasis(label.text);
      if (result.turns.length === 0 && label.speaker === 'User 2' && preamble.length > 0) {
        result.turns.push({ speaker: 'User 1', text: preamble.join(' ') });
      }
      const previous = result.turns.at(-1);
      if (previous && previous.speaker === label.speaker) {
        previous.text = `${previous.text} ${utterance}`.trim();
        result.mergedTurns++;
      } else {
        result.turns.push({ speaker: label.speaker, text: utterance });
      }
      continue;
    }
    if (STAGE_DIRECTION.test(line)) {
      result.stageDirections++;
      continue;
    }
    const previous = result.turns.at(-1);
    if (!previous) {
      result.preambleLines++;
      preamble.push(stripEmphasis(line));
      continue;
    }
    previous.text = `${previous.text} ${stripEmphasis(line)}`.trim();
    result.continuationLines++;
  }
  // A label followed by nothing says nothing; dropping it may put one speaker twice in a row.
  const spoken: Turn[] = [];
  for (const turn of result.turns) {
    if (turn.text === '') {
      result.repairs.add('empty_turns');
      continue;
    }
    const previous = spoken.at(-1);
    if (previous && previous.speaker === turn.speaker) {
      previous.text = `${previous.text} ${turn.text}`;
      result.mergedTurns++;
    } else {
      spoken.push(turn);
    }
  }
  result.turns = spoken;
  if (result.preambleLines > 0) result.repairs.add('preamble');
  if (result.stageDirections > 0) result.repairs.add('stage_directions');
  if (result.continuationLines > 0) result.repairs.add('continuation_lines');
  if (result.mergedTurns > 0) result.repairs.add('merged_turns');
  return result;
}

/** Removes Markdown emphasis markers wrapping an utterance (`* hi *` -> `hi`). */
function stripEmphasis(text: string): string {
  return text
    .replace(/^[\s*_]+(?=\S)/, '')
    .replace(/(?<=\S)[\s*_]*\*[\s*_]*$/, '')
    .trim();
}
