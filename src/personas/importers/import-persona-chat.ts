import type { ImportedDataset } from '../../schemas/imported-dataset.ts';
import type { Turn } from '../../schemas/turn.ts';
import { InputError } from '../../errors.ts';
import { buildSeedRecord, fileStem } from './build-seed-record.ts';
import { noteImported, skipRecord, type ImportNotes } from './import-notes.ts';

/** One ParlAI episode as read: personas by side and the turns in spoken order. */
interface Episode {
  /** 1-based line where the episode starts (its line `1 …`). */
  line: number;
  /** `your persona:` lines: the side that speaks the labels. */
  selfPersona: string[];
  /** `partner's persona:` lines: the side that speaks the texts. */
  partnerPersona: string[];
  /** Utterances in order, by side. */
  utterances: { side: 'self' | 'partner'; text: string }[];
  /** The first line that breaks the ParlAI format: the episode is skipped from there. */
  broken?: { line: number; message: string };
  /** Repairs applied while reading (e.g. `empty_persona_lines`). */
  repairs: Set<string>;
}

interface Dialogue {
  user1: string[];
  user2: string[];
  turns: Turn[];
  line: number;
  repairs: Set<string>;
}

const NUMBERED_LINE = /^(\d+) (.*)$/;
const SELF_PERSONA = /^your persona:\s*(.*)$/i;
const PARTNER_PERSONA = /^partner's persona:\s*(.*)$/i;
/** ParlAI's placeholder for "the partner said nothing" (the labelled side speaks first). */
const SILENCE = '__SILENCE__';

/**
 * Reads Persona-Chat / ConvAI2 in ParlAI text format (`train_self_original.txt`,
 * `valid_both_revised.txt`, …): numbered lines, `N your persona: …` / `N partner's persona: …`
 * persona lines, `N text<TAB>label[<TAB>reward<TAB>candidates]` dialogue lines; an episode starts
 * when the number resets to 1. The texts are the partner's utterances, the labels the persona
 * owner's. User 1 is whoever speaks first.
 *
 * Self-only (or other-only) files know one side's persona per episode; ConvAI2 files hold each
 * dialogue once per side, so the two halves are joined by their identical utterances. An episode
 * whose missing persona cannot be found, without dialogue lines, or with a line that breaks the
 * format (numbering, missing tab, persona after dialogue) is skipped and counted (with
 * `notes.strict`: the error naming its line); a dialogue seen twice is kept once.
 */
export function importPersonaChat(text: string, file: string, notes: ImportNotes): ImportedDataset {
  const episodes = readEpisodes(text);
  const stem = fileStem(file);
  // Dialogues indexed by their first two turns; the same dialogue from the other side has the same
  // turns (one copy may stop a turn earlier) and persona sides that are empty or equal.
  const dialogues: Dialogue[] = [];
  const byOpening = new Map<string, Dialogue[]>();
  for (const episode of episodes) {
    if (episode.broken) {
      skipRecord(notes, file, {
        line: episode.broken.line,
        reason: 'malformed_episode',
        message: episode.broken.message,
      });
      continue;
    }
    if (episode.utterances.length === 0) {
      skipRecord(notes, file, {
        line: episode.line,
        reason: 'no_dialogue_lines',
        message: 'episode has persona lines but no dialogue lines',
      });
      continue;
    }
    const firstSide = episode.utterances[0].side;
    const turns: Turn[] = episode.utterances.map((utterance) => ({
      speaker: utterance.side === firstSide ? 'User 1' : 'User 2',
      text: utterance.text,
    }));
    const [user1, user2] =
      firstSide === 'self'
        ? [episode.selfPersona, episode.partnerPersona]
        : [episode.partnerPersona, episode.selfPersona];
    const candidate: Dialogue = {
      user1: [...user1],
      user2: [...user2],
      turns,
      line: episode.line,
      repairs: new Set(episode.repairs),
    };
    const opening = turns
      .slice(0, 2)
      .map((turn) => `${turn.speaker}\u0000${turn.text}`)
      .join('\u0001');
    const sameOpening = byOpening.get(opening) ?? [];
    const twin = sameOpening.find((known) => isSameDialogue(known, candidate));
    if (!twin) {
      dialogues.push(candidate);
      sameOpening.push(candidate);
      byOpening.set(opening, sameOpening);
      continue;
    }
    if (twin.user1.length === 0 && candidate.user1.length > 0) {
      twin.user1 = candidate.user1;
      twin.repairs.add('sides_joined');
    }
    if (twin.user2.length === 0 && candidate.user2.length > 0) {
      twin.user2 = candidate.user2;
      twin.repairs.add('sides_joined');
    }
    for (const kind of candidate.repairs) twin.repairs.add(kind);
    if (candidate.turns.length > twin.turns.length) twin.turns = candidate.turns;
    notes.duplicates++;
  }

  const complete = (dialogue: Dialogue) => dialogue.user1.length > 0 && dialogue.user2.length > 0;
  if (dialogues.length > 0 && !dialogues.some(complete)) {
    throw new InputError(
      `no episode has personas for both speakers (${episodes.length} episodes read). ` +
        'Use a "both" variant (e.g. valid_both_original.txt) or a self/other file that contains each dialogue from both sides.',
      file,
    );
  }
  const dataset: ImportedDataset = { format: 'persona-chat', path: file, conversations: [], pairs: [] };
  for (const dialogue of dialogues) {
    if (dialogue.user1.length === 0 || dialogue.user2.length === 0) {
      skipRecord(notes, file, {
        line: dialogue.line,
        reason: 'unknown_persona',
        message: `persona of ${dialogue.user1.length === 0 ? 'User 1' : 'User 2'} unknown (a self/other-only file without the other side's copy of this dialogue)`,
      });
      continue;
    }
    noteImported(notes, dialogue.repairs);
    const { record, pair } = buildSeedRecord({
      id: `${stem}-${dataset.conversations.length + 1}`,
      user1Persona: dialogue.user1,
      user2Persona: dialogue.user2,
      turns: dialogue.turns,
    });
    dataset.conversations.push(record);
    dataset.pairs.push(pair);
  }
  return dataset;
}

/** Same turns (one list may be a prefix of the other) and no persona side that disagrees. */
function isSameDialogue(known: Dialogue, candidate: Dialogue): boolean {
  const shorter = Math.min(known.turns.length, candidate.turns.length);
  for (let index = 0; index < shorter; index++) {
    if (known.turns[index].speaker !== candidate.turns[index].speaker) return false;
    if (known.turns[index].text !== candidate.turns[index].text) return false;
  }
  return compatiblePersonas(known.user1, candidate.user1) && compatiblePersonas(known.user2, candidate.user2);
}

function compatiblePersonas(left: string[], right: string[]): boolean {
  return left.length === 0 || right.length === 0 || left.join('\n') === right.join('\n');
}

/**
 * Splits the file into episodes. A line that breaks the format marks its episode `broken` (the
 * first such line wins) and the rest of the episode is passed over until the next line numbered 1.
 */
function readEpisodes(text: string): Episode[] {
  const episodes: Episode[] = [];
  let current: Episode | undefined;
  let previousNumber = 0;
  const newEpisode = (line: number): Episode => {
    const episode: Episode = { line, selfPersona: [], partnerPersona: [], utterances: [], repairs: new Set() };
    episodes.push(episode);
    return episode;
  };
  const breakEpisode = (lineNumber: number, message: string) => {
    current ??= newEpisode(lineNumber);
    current.broken ??= { line: lineNumber, message };
  };
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const line = lines[index];
    if (line.trim() === '') continue;
    const numbered = NUMBERED_LINE.exec(line);
    if (!numbered) {
      breakEpisode(
        lineNumber,
        `expected a numbered ParlAI line such as "1 your persona: i like dogs." or "3 hi there<TAB>hello", got "${preview(line)}"`,
      );
      continue;
    }
    const number = Number(numbered[1]);
    const content = numbered[2];
    if (number === 1) {
      current = newEpisode(lineNumber);
    } else if (!current || number !== previousNumber + 1) {
      if (!current?.broken) {
        breakEpisode(
          lineNumber,
          `line number ${number} does not follow ${previousNumber}: each episode numbers its lines 1, 2, 3, … and a new episode restarts at 1`,
        );
      }
      previousNumber = number;
      continue;
    }
    previousNumber = number;
    if (current.broken) continue;

    const selfPersona = SELF_PERSONA.exec(content);
    const partnerPersona = PARTNER_PERSONA.exec(content);
    if (selfPersona || partnerPersona) {
      const attribute = (selfPersona ?? partnerPersona)![1].trim();
      if (attribute === '') {
        current.repairs.add('empty_persona_lines');
        continue;
      }
      if (current.utterances.length > 0) {
        breakEpisode(lineNumber, 'persona line after dialogue lines: persona lines must come first in an episode');
        continue;
      }
      (selfPersona ? current.selfPersona : current.partnerPersona).push(attribute);
      continue;
    }

    const fields = content.split('\t');
    if (fields.length < 2) {
      breakEpisode(
        lineNumber,
        `dialogue line has no tab-separated label: expected "${number} <partner text><TAB><reply>", got "${preview(content)}"`,
      );
      continue;
    }
    const partnerText = fields[0].trim();
    // `labels` may hold several alternatives separated by `|`: the first is the one that was said.
    const selfText = fields[1].split('|')[0].trim();
    if (selfText === '') {
      breakEpisode(lineNumber, 'dialogue line has an empty label (the reply after the tab)');
      continue;
    }
    if (partnerText !== '' && partnerText !== SILENCE) current.utterances.push({ side: 'partner', text: partnerText });
    current.utterances.push({ side: 'self', text: selfText });
  }
  return episodes;
}

function preview(line: string): string {
  const shown = line.replace(/\t/g, '<TAB>');
  return shown.length > 60 ? `${shown.slice(0, 57)}...` : shown;
}
