import { escapeHtml } from './escape-html.ts';

/** A plain `<table>` with every header and body cell HTML-escaped; `attributes` is inserted verbatim after `<table`. */
export function renderHtmlTable(header: string[], rows: string[][], attributes = ''): string {
  return (
    `<table${attributes}><thead><tr>${header.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('')}</tbody></table>`
  );
}
