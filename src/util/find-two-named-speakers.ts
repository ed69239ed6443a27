import type { SpeakerLabelMatch } from './match-speaker-label.ts';

// `Larry: hi`, `**Amy:** hi`, `Speaker A: hi`: a short capitalized name, a colon, then words.
const NAMED_SPEAKER = /^[\s*_]*([A-Z][A-Za-z0-9.'-]*(?: [A-Za-z0-9.'-]+){0,2})[\s*_]*:[\s*_]*(\S.*)$/;

/**
 * The two speaker names of a dialogue written without `User 1/2` labels (`Larry:` / `Amy:`), in
 * order of first appearance: only when exactly two names label the lines and they label at least
 * half of them (so `Ingredients:` / `Note:` lines in prose are not taken for speakers).
 * @param isNarration lines not counted either way (stage directions)
 */
export function findTwoNamedSpeakers(
  lines: readonly string[],
  isNarration: (line: string) => boolean = () => false,
): [string, string] | undefined {
  const names: string[] = [];
  let labeled = 0;
  let spoken = 0;
  for (const line of lines) {
    const trimmed = line.trim();
    if (trimmed === '' || isNarration(trimmed)) continue;
    spoken++;
    const match = NAMED_SPEAKER.exec(trimmed);
    if (!match) continue;
    labeled++;
    if (!names.includes(match[1])) names.push(match[1]);
  }
  return names.length === 2 && labeled >= 2 && labeled * 2 >= spoken ? [names[0], names[1]] : undefined;
}

/** A trimmed line labeled with one of the two names, read as `User 1` (first name) or `User 2`. */
export function matchNamedSpeaker(line: string, names: readonly [string, string]): SpeakerLabelMatch | undefined {
  const match = NAMED_SPEAKER.exec(line);
  if (!match || !names.includes(match[1])) return undefined;
  return {
    speaker: match[1] === names[0] ? 'User 1' : 'User 2',
    text: match[2],
    decorated: /[*_]/.test(line.slice(0, line.indexOf(':') + 2)),
    variant: false,
  };
}
