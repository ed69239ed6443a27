import type { Speaker } from '../schemas/turn.ts';

/** A line that starts with a `User 1` / `User 2` speaker label, and how the label was written. */
export interface SpeakerLabelMatch {
  speaker: Speaker;
  /** What follows the label (emphasis markers around it not yet removed). */
  text: string;
  /** The label was wrapped in Markdown (`*User 1:*`, `**User 2:**`, `* * User 1: * *`, `### User 1:`, `- User 1:`). */
  decorated: boolean;
  /** The label differs from `User 1:` in case, spacing or separator (`user 1 :`, `USER2:`, `User 1 -`). */
  variant: boolean;
}

// Decoration, `user`, optional spaces, 1 or 2, an optional `(Name)`, decoration, `:` (or a spaced
// dash), decoration, text.
const SPEAKER_LABEL = /^([\s*_#>-]*)(user)(\s*)([12])(\s*\([^()]{1,40}\))?([\s*_]*)(:|\s[-–—])([\s*_]*)(.*)$/i;
// `Larry (User 1): hi`: a name, then the label in parentheses.
const NAMED_LABEL = /^([\s*_#>-]*)[^\s:()*][^:()]{0,39}\(\s*user\s*([12])\s*\)([\s*_]*):([\s*_]*)(.*)$/i;

/**
 * Reads the speaker label at the start of a trimmed line, tolerating what people and chat models
 * wrap around it or add to it (`User 1 (Larry):`, `Larry (User 1):`). Returns undefined for a line
 * without a label.
 */
export function matchSpeakerLabel(line: string): SpeakerLabelMatch | undefined {
  const match = SPEAKER_LABEL.exec(line);
  if (match) {
    const [, before, word, gap, digit, name, between, separator, after, text] = match;
    return {
      speaker: digit === '1' ? 'User 1' : 'User 2',
      text,
      decorated: /[*_#>-]/.test(`${before}${between}${after}`),
      variant: word !== 'User' || gap !== ' ' || name !== undefined || /\s/.test(between) || separator !== ':',
    };
  }
  const named = NAMED_LABEL.exec(line);
  if (!named) return undefined;
  const [, before, digit, between, after, text] = named;
  return {
    speaker: digit === '1' ? 'User 1' : 'User 2',
    text,
    decorated: /[*_#>-]/.test(`${before}${between}${after}`),
    variant: true,
  };
}
