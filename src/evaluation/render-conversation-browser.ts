import type { CandidateRecord } from '../schemas/candidate-record.ts';
import type { Turn } from '../schemas/turn.ts';
import { escapeHtml } from './escape-html.ts';
import type { SampledPair } from './read-run-report-data.ts';

const badge = (text: string, kind = text) => `<span class="badge ${escapeHtml(kind)}">${escapeHtml(text)}</span>`;

function renderTurns(turns: readonly Turn[]): string {
  return `<div class="turns">${turns
    .map(
      (turn) =>
        `<div class="turn ${turn.speaker === 'User 1' ? 'u1' : 'u2'}"><b>${escapeHtml(turn.speaker)}</b> ${escapeHtml(turn.text)}</div>`,
    )
    .join('')}</div>`;
}

function renderPersona(title: string, persona: readonly string[] | null): string {
  const body = persona
    ? `<ul>${persona.map((attribute) => `<li>${escapeHtml(attribute)}</li>`).join('')}</ul>`
    : '<p class="muted">unknown</p>';
  return `<div><b>${escapeHtml(title)}</b>${body}</div>`;
}

function renderCandidate(candidate: CandidateRecord): string {
  const filters = candidate.filters.length
    ? `<table class="verdicts"><thead><tr><th>filter</th><th>source</th><th>verdict</th><th>confidence</th><th class="text">rationale</th></tr></thead><tbody>${candidate.filters
        .map(
          (verdict) =>
            `<tr><td>${escapeHtml(verdict.critic)}</td><td>${escapeHtml(verdict.source)}</td><td>${badge(verdict.passed ? 'passed' : 'failed')}</td>` +
            `<td>${verdict.confidence.toFixed(2)}</td><td class="text">${escapeHtml(verdict.rationale)}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  const pairwise = candidate.pairwise.length
    ? `<table class="verdicts"><thead><tr><th>ranker</th><th>pair</th><th>winner</th><th>per order</th><th class="text">rationale</th></tr></thead><tbody>${candidate.pairwise
        .map(
          (verdict) =>
            `<tr><td>${escapeHtml(verdict.critic)}</td><td>#${verdict.a} vs #${verdict.b}</td><td>${verdict.winner === null ? badge('tie') : `#${verdict.winner}`}</td>` +
            `<td>${verdict.orderWinners.map((winner) => (winner === null ? '–' : `#${winner}`)).join(' / ')}</td><td class="text">${escapeHtml(verdict.rationale)}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  const heading =
    `<b>Candidate #${candidate.candidate_index}</b> ${badge(candidate.status)}` +
    (candidate.filtered_by ? ` <span class="muted">removed by ${escapeHtml(candidate.filtered_by)}</span>` : '') +
    (candidate.copeland !== null ? ` <span class="muted">Copeland ${candidate.copeland}</span>` : '');
  const body = candidate.turns.length ? renderTurns(candidate.turns) : `<pre>${escapeHtml(candidate.raw_text)}</pre>`;
  return `<div class="candidate" data-candidate="${candidate.candidate_index}">${heading}${body}${filters}${pairwise}</div>`;
}

/** The browsable, filterable list of sampled pairs with every candidate, verdict and rationale. */
export function renderConversationBrowser(samples: readonly SampledPair[]): string {
  const iterations = [...new Set(samples.map((sample) => sample.iteration))].sort((left, right) => left - right);
  const controls =
    `<div class="controls">` +
    `<input type="search" id="conversation-search" placeholder="Search personas, utterances, rationales" aria-label="Search conversations">` +
    `<select id="conversation-status" aria-label="Status"><option value="">all statuses</option><option value="accepted">accepted</option><option value="rejected">rejected</option></select>` +
    `<select id="conversation-iteration" aria-label="Iteration"><option value="">all iterations</option>${iterations
      .map((iteration) => `<option value="${iteration}">iteration ${iteration}</option>`)
      .join('')}</select>` +
    `<span id="conversation-count" class="muted"></span></div>`;
  const items = samples.map((sample) => {
    const winner = sample.candidates.find((candidate) => candidate.status === 'winner');
    const turns = winner?.turns ?? sample.row?.turns ?? [];
    const preview = turns[0]?.text ?? sample.candidates[0]?.raw_text ?? '';
    const scores = sample.row
      ? `<p class="muted">scores: ${Object.entries(sample.row.scores)
          .map(([critic, value]) => `${escapeHtml(critic)} ${Number.isInteger(value) ? value : value.toFixed(2)}`)
          .join(' · ')}</p>`
      : '';
    const candidates = sample.candidates.length
      ? sample.candidates.map(renderCandidate).join('')
      : sample.row
        ? `<div class="candidate"><b>Accepted conversation</b>${renderTurns(sample.row.turns)}</div>`
        : '';
    return (
      `<li class="conversation" data-status="${sample.status}" data-iteration="${sample.iteration}"><details>` +
      `<summary>${badge(sample.status)} <b>${escapeHtml(sample.pair_id)}</b> <span class="muted">iteration ${sample.iteration} · ${sample.candidates.length} candidate(s) · ${turns.length} utterances</span> ` +
      `<span class="muted">— ${escapeHtml(preview.slice(0, 90))}</span></summary>` +
      `<div class="body"><div class="personas">${renderPersona('User 1', sample.user1_persona)}${renderPersona('User 2', sample.user2_persona)}</div>${scores}${candidates}</div>` +
      `</details></li>`
    );
  });
  const empty =
    samples.length === 0 ? '<p class="muted" id="conversation-empty">No conversations in this run yet.</p>' : '';
  return `${controls}${empty}<ol id="conversation-list">${items.join('')}</ol>`;
}
