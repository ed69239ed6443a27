import { describe, expect, it } from 'vitest';
import { parseConversation } from '../../src/generation/parse-conversation.ts';
import { countReplyParsing } from '../../src/generation/count-reply-parsing.ts';
import { extractJson } from '../../src/llm/extract-json.ts';

const TURNS = [
  { speaker: 'User 1', text: 'Hi there! Do you like hiking?' },
  { speaker: 'User 2', text: 'I love it. I hike every weekend.' },
  { speaker: 'User 1', text: 'Me too, mostly in the Alps.' },
];

describe('parseConversation on what chat models write', () => {
  it('reads a clean reply without any repair', () => {
    const parsed = parseConversation(TURNS.map((turn) => `${turn.speaker}: ${turn.text}`).join('\n'));
    expect(parsed).toEqual({ turns: TURNS, repairs: {} });
  });

  it('drops a preamble, code fences and a closing remark, strips Markdown tags, skips blank lines', () => {
    const reply = [
      'Sure! Here is the conversation:',
      '',
      '```',
      '**User 1:** Hi there! Do you like hiking?',
      '',
      '**User 2:** I love it. I hike every weekend.',
      '',
      '**User 1:** Me too, mostly in the Alps.',
      '```',
      '',
      'I hope this helps! Let me know if you would like any changes.',
    ].join('\n');
    const parsed = parseConversation(reply);
    expect(parsed.parseError).toBeUndefined();
    expect(parsed.turns).toEqual(TURNS);
    expect(parsed.repairs).toEqual({
      preamble: 1,
      code_fence: 2,
      markdown_speaker_tags: 3,
      blank_lines: 2,
      closing_remark: 1,
    });
  });

  it('reads spaced emphasis (* * User 1: * *), label variants and labels alone on their line', () => {
    const parsed = parseConversation(
      [
        '* * User 1: * * Hi there! Do you like hiking?',
        'user 2 : I love it. I hike every weekend.',
        '### User 1:',
        '',
        'Me too, mostly in the Alps.',
      ].join('\n'),
    );
    expect(parsed.turns).toEqual(TURNS);
    expect(parsed.repairs).toMatchObject({
      markdown_speaker_tags: 2,
      speaker_label_variants: 1,
      continuation_lines: 1,
    });
    expect(parsed.repairs.closing_remark).toBeUndefined();
  });

  it('reads labels that carry a name: "User 1 (Larry):" and "Amy (User 2):"', () => {
    const parsed = parseConversation('User 1 (Larry): Hi, I am Larry.\n**Amy (User 2):** Hi Larry!');
    expect(parsed.turns).toEqual([
      { speaker: 'User 1', text: 'Hi, I am Larry.' },
      { speaker: 'User 2', text: 'Hi Larry!' },
    ]);
    expect(parsed.repairs).toEqual({ speaker_label_variants: 2, markdown_speaker_tags: 1 });
  });

  it('reads a dialogue between two named speakers, the first named as User 1', () => {
    const parsed = parseConversation(
      'Here is a conversation between Larry and Amy:\n\n**Larry:** Hi, I am Larry.\n**Amy:** Hi Larry!\n**Larry:** Nice to meet you.',
    );
    expect(parsed.turns.map((turn) => turn.speaker)).toEqual(['User 1', 'User 2', 'User 1']);
    expect(parsed.turns[1].text).toBe('Hi Larry!');
    expect(parsed.repairs).toMatchObject({ named_speakers: 1, preamble: 1, markdown_speaker_tags: 3 });
  });

  it('joins continuation lines, drops stage directions and a remark after a rule', () => {
    const parsed = parseConversation(
      [
        'User 1: Hi there!',
        'Do you like hiking?',
        '[User 2 smiles.]',
        'User 2: I love it. I hike every weekend.',
        'User 1: Me too, mostly in the Alps.',
        '---',
        'This conversation shows two hikers meeting.',
      ].join('\n'),
    );
    expect(parsed.turns).toEqual(TURNS);
    expect(parsed.repairs).toEqual({ continuation_lines: 1, stage_directions: 2, closing_remark: 1 });
  });

  it('takes a closing remark right after the last turn when it reads like one', () => {
    const parsed = parseConversation('User 1: Hi\nUser 2: Hello\nI hope this helps!');
    expect(parsed.turns).toEqual([
      { speaker: 'User 1', text: 'Hi' },
      { speaker: 'User 2', text: 'Hello' },
    ]);
    expect(parsed.repairs).toEqual({ closing_remark: 1 });
  });

  it('reads a fenced JSON list of turns', () => {
    const parsed = parseConversation('```json\n' + JSON.stringify(TURNS) + '\n```');
    expect(parsed.turns).toEqual(TURNS);
    expect(parsed.repairs).toEqual({ code_fence: 2, json_turns: 1 });
  });

  it('keeps a parse error for a reply with no conversation in it', () => {
    const parsed = parseConversation('Sorry, I would rather not write that.');
    expect(parsed.turns).toEqual([]);
    expect(parsed.parseError).toBe('no "User 1:" / "User 2:" lines found in the reply');
  });
});

describe('countReplyParsing', () => {
  it('counts replies, repaired ones by kind (once per reply) and unparsable ones', () => {
    expect(
      countReplyParsing([
        { parse_repairs: {} },
        { parse_repairs: { markdown_speaker_tags: 12, blank_lines: 11 } },
        { parse_repairs: { markdown_speaker_tags: 3, closing_remark: 0 } },
        { parse_repairs: { preamble: 1 }, parse_error: 'no "User 1:" / "User 2:" lines found in the reply' },
        {},
      ]),
    ).toEqual({
      replies: 5,
      repaired: 2,
      unparsable: 1,
      repaired_by_kind: { markdown_speaker_tags: 2, blank_lines: 1 },
    });
  });
});

describe('extractJson around fenced JSON replies', () => {
  it.each([
    ['a ```json fence', '```json\n{"a":1}\n```', '{"a":1}'],
    ['prose and braces after the fence', 'Sure!\n```JSON\n{"a":1}\n```\nHope it helps {really}', '{"a":1}'],
    ['a ~~~ fence', '~~~json\n{"a":1}\n~~~\nsee {x}', '{"a":1}'],
    ['a non-JSON fence first', '```text\nhi\n```\n```json\n{"a":2}\n```\nbye}', '{"a":2}'],
    ['a fence cut off before its end', '```json\n{"a":1}', '{"a":1}'],
    ['a fence on one line', '```json {"a":3}```', '{"a":3}'],
  ])('takes the object out of %s', (_name, reply, expected) => {
    expect(extractJson(reply)).toBe(expected);
  });
});
