import type { ChatMessage } from '../../llm/llm-backend.ts';
import { renderPersona } from '../../util/render-persona.ts';

/**
 * Query induction: the question that sample attributes of one cluster all answer.
 * Reply schema `persona_query_induction` ({"question"}).
 */
export function buildQueryInductionMessages(samples: readonly string[]): ChatMessage[] {
  return [
    {
      role: 'user',
      content: [
        'These statements about different people all answer the same short question about a person.',
        '',
        '<attributes>',
        renderPersona(samples),
        '</attributes>',
        '',
        'Write that question, addressed to the person ("What is your job?", "Do you have pets?").',
        'Keep it general enough that every statement answers it, and short (at most 10 words).',
        'Reply with one JSON object and nothing else: {"question": "<the question>"}',
      ].join('\n'),
    },
  ];
}

/**
 * Query bootstrapping: new questions about a person, unlike the shown ones.
 * Reply schema `persona_query_bootstrap` ({"questions": [...]}).
 */
export function buildQueryBootstrapMessages(knownQuestions: readonly string[], wanted: number): ChatMessage[] {
  return [
    {
      role: 'user',
      content: [
        'We ask people short questions to learn about their personality, life and interests. Some of our questions:',
        '',
        '<questions>',
        renderPersona(knownQuestions),
        '</questions>',
        '',
        `Write ${wanted} new questions of the same kind about other aspects of a person.`,
        'Each must be answerable in one short sentence, and differ in topic from the questions above and from each other.',
        'Reply with one JSON object and nothing else: {"questions": ["<question>", ...]}',
      ].join('\n'),
    },
  ];
}

/**
 * Persona bootstrapping: one new attribute answering `question`, in the style of the examples.
 * Reply schema `persona_bootstrap` ({"attribute"}).
 */
export function buildPersonaBootstrapMessages(examples: readonly string[], question: string): ChatMessage[] {
  return [
    {
      role: 'user',
      content: [
        'Statements people wrote about themselves:',
        '',
        '<examples>',
        renderPersona(examples),
        '</examples>',
        '',
        'Answer this question about a new, different person with one statement in the same style:',
        '',
        `<question>${question.trim()}</question>`,
        '',
        'The statement is short (at most 15 words), first person, starts with "I" or "My", and is not a copy of an example.',
        'Reply with one JSON object and nothing else: {"attribute": "<the statement>"}',
      ].join('\n'),
    },
  ];
}

const FIRST_PERSON = /^(I|My)\b/;

/**
 * Cleans a bootstrapped attribute (quotes, bullet, missing full stop) and checks its form:
 * returns the sentence, or undefined when it is not a short first-person statement.
 */
export function normalizeBootstrappedAttribute(text: string, maxWords = 25): string | undefined {
  let sentence = text
    .trim()
    .replace(/^[-*•]\s*/, '')
    .replace(/^["'“”]+|["'“”]+$/g, '')
    .trim();
  if (!FIRST_PERSON.test(sentence)) return undefined;
  if (sentence.includes('\n')) return undefined;
  const words = sentence.split(/\s+/).length;
  if (words < 2 || words > maxWords) return undefined;
  if (!/[.!?]$/.test(sentence)) sentence = `${sentence}.`;
  return sentence;
}

/** Cleans a question: one line, ends with "?". Undefined when nothing is left. */
export function normalizeQuestion(text: string): string | undefined {
  const question = text
    .trim()
    .replace(/^[-*•\d.)\s]+/, '')
    .replace(/^["'“”]+|["'“”]+$/g, '')
    .trim();
  if (question.length < 3 || question.includes('\n')) return undefined;
  return question.endsWith('?') ? question : `${question.replace(/[.!]+$/, '')}?`;
}
