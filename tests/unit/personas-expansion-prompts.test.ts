import { describe, expect, it } from 'vitest';
import {
  buildPersonaBootstrapMessages,
  buildQueryBootstrapMessages,
  buildQueryInductionMessages,
  normalizeBootstrappedAttribute,
  normalizeQuestion,
} from '../../src/personas/expansion/expansion-prompts.ts';
import { formatExpansionStats } from '../../src/personas/expansion/format-expansion-stats.ts';

describe('expansion prompts', () => {
  it('query induction shows the samples as a list and asks for {"question"}', () => {
    const [message] = buildQueryInductionMessages(['I have a dog.', 'My cat is old.']);
    expect(message.role).toBe('user');
    expect(message.content).toContain('<attributes>\n- I have a dog.\n- My cat is old.\n</attributes>');
    expect(message.content).toContain('{"question": "<the question>"}');
  });

  it('query bootstrapping shows the known questions and the number wanted', () => {
    const [message] = buildQueryBootstrapMessages(['What is your job?', 'Do you have pets?'], 5);
    expect(message.content).toContain('<questions>\n- What is your job?\n- Do you have pets?\n</questions>');
    expect(message.content).toContain('Write 5 new questions');
  });

  it('persona bootstrapping shows the examples and the question', () => {
    const [message] = buildPersonaBootstrapMessages(['I have a dog.'], '  What is your job? ');
    expect(message.content).toContain('<examples>\n- I have a dog.\n</examples>');
    expect(message.content).toContain('<question>What is your job?</question>');
    expect(message.content).toContain('starts with "I" or "My"');
  });
});

describe('normalizeBootstrappedAttribute', () => {
  it('keeps short first-person sentences, adding a full stop', () => {
    expect(normalizeBootstrappedAttribute('I teach yoga')).toBe('I teach yoga.');
    expect(normalizeBootstrappedAttribute(' "My sister lives in Oslo." ')).toBe('My sister lives in Oslo.');
    expect(normalizeBootstrappedAttribute('- I am a pilot!')).toBe('I am a pilot!');
  });

  it('rejects other forms', () => {
    expect(normalizeBootstrappedAttribute('Someone teaches yoga.')).toBeUndefined();
    expect(normalizeBootstrappedAttribute('Mystery novels are fun.')).toBeUndefined();
    expect(normalizeBootstrappedAttribute('I')).toBeUndefined();
    expect(normalizeBootstrappedAttribute(`I ${'really '.repeat(30)}like tea.`)).toBeUndefined();
    expect(normalizeBootstrappedAttribute('I like tea.\nI like coffee.')).toBeUndefined();
  });
});

describe('normalizeQuestion', () => {
  it('strips list markers and quotes and ends with a question mark', () => {
    expect(normalizeQuestion('1. What is your job')).toBe('What is your job?');
    expect(normalizeQuestion('"Do you have pets?"')).toBe('Do you have pets?');
    expect(normalizeQuestion('  ')).toBeUndefined();
  });
});

describe('formatExpansionStats', () => {
  it('prints the Table 1 rows for seed and expanded sets', () => {
    const text = formatExpansionStats({
      seed: { attributes: 10, clusters: 4, mean_inter_cluster_distance: 0.91, mean_length_tokens: 7.2 },
      expanded: { attributes: 20, clusters: 6, mean_inter_cluster_distance: 0.95, mean_length_tokens: 6.5 },
      queries: { induced: 4, bootstrapped: 2 },
      rejected: { near_duplicate: 3, malformed: 1, duplicate_query: 2, invalid_reply: 0 },
      embedder: 'lexical',
      cluster_threshold: 0.8,
      complete: true,
      target: 20,
    });
    expect(text.split('\n')).toEqual([
      '                                 seed  expanded',
      '#attributes                        10        20',
      '#clusters                           4         6',
      'mean inter-cluster distance     0.910     0.950',
      'mean length (tokens)             7.20      6.50',
      'questions: 4 induced, 2 bootstrapped; embedder lexical, cluster threshold 0.8',
      'rejected: 3 near-duplicate, 1 malformed, 2 duplicate questions, 0 invalid replies',
    ]);
  });
});
