import type { Speaker, Turn } from '../../schemas/turn.ts';

/** What `parseSpeakerTurnsDetailed` did to the text besides splitting it, for import reports. */
export interface SpeakerTurnsParse {
  turns: Turn[];
  /**
   * Non-empty lines before the first `User 1:` / `User 2:` line. When the first label is `User 2`
   * they are taken as User 1's unlabeled opening; otherwise they are dropped.
   */
  preambleLines: number;
  /** Stage directions such as `[Later]` or `(They walk together.)` (dropped). */
  stageDirections: number;
  /** Lines without a speaker label appended to the previous utterance. */
  continuationLines: number;
  /** Consecutive utterances of one speaker merged into one turn (keeps turns alternating). */
  mergedTurns: number;
}

// `User 1: hi`, `*User 1:* hi`, `**User 2:** hi`, `* User 1: hi *`, `user 2 : hi`.
const SPEAKER_LINE = /^[\s*_]*user\s*([12])\s*[*_]*\s*:[\s*_]*(.*)$/i;
// A whole line in brackets or parentheses, or a `* * *` separator: narration, not an utterance.
const STAGE_DIRECTION = /^\s*(?:\[[^\]]*\]?|\([^)]*\)?|(?:\*\s*){2,})\s*$/;

/**
 * Parses `User 1: …` / `User 2: …` lines into turns (the format of SPC's `Best Generated Conversation`
 * and of our generator's replies). Tolerates Markdown emphasis around the label, drops stage
 * directions and a preamble before the first label, appends unlabeled lines to the previous
 * utterance and merges consecutive utterances of one speaker, so the result always alternates.
 */
export function parseSpeakerTurns(text: string): Turn[] {
  return parseSpeakerTurnsDetailed(text).turns;
}

/** `parseSpeakerTurns` plus counts of what was dropped, appended or merged. */
export function parseSpeakerTurnsDetailed(text: string): SpeakerTurnsParse {
  const result: SpeakerTurnsParse = {
    turns: [],
    preambleLines: 0,
    stageDirections: 0,
    continuationLines: 0,
    mergedTurns: 0,
  };
  const preamble: string[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '') continue;
    const match = SPEAKER_LINE.exec(line);
    if (match) {
      const speaker: Speaker = match[1] === '1' ? 'User 1' : 'User 2';
      const utterance = stripEmphasis(match[2]);
      if (result.turns.length === 0 && speaker === 'User 2' && preamble.length > 0) {
        result.turns.push({ speaker: 'User 1', text: preamble.join(' ') });
      }
      const previous = result.turns.at(-1);
      if (previous && previous.speaker === speaker) {
        previous.text = `${previous.text} ${utterance}`.trim();
        result.mergedTurns++;
      } else {
        result.turns.push({ speaker, text: utterance });
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
    if (turn.text === '') continue;
    const previous = spoken.at(-1);
    if (previous && previous.speaker === turn.speaker) {
      previous.text = `${previous.text} ${turn.text}`;
      result.mergedTurns++;
    } else {
      spoken.push(turn);
    }
  }
  result.turns = spoken;
  return result;
}

/** Removes Markdown emphasis markers wrapping an utterance (`* hi *` -> `hi`). */
function stripEmphasis(text: string): string {
  return text
    .replace(/^[\s*_]+(?=\S)/, '')
    .replace(/(?<=\S)[\s*_]*\*[\s*_]*$/, '')
    .trim();
}
