/** Inline stylesheet of `report.html` (no external fonts or files). */
export const REPORT_CSS = `
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#ffffff; --panel:#f6f8fa; --accent:#0969da;
  --ok:#1a7f37; --bad:#cf222e; --warn:#9a6700; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); line-height: 1.45; }
header { padding: 24px 32px 8px; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 1.5rem; }
nav { position: sticky; top: 0; background: var(--bg); border-bottom: 1px solid var(--line); padding: 8px 32px; z-index: 1; }
nav a { margin-right: 16px; color: var(--accent); text-decoration: none; font-size: .9rem; }
main { padding: 8px 32px 48px; max-width: 1200px; }
section { margin-top: 32px; }
h3 { font-size: 1rem; margin: 16px 0 4px; }
h3 .muted { font-weight: normal; font-size: .85rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.muted { color: var(--muted); }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; }
.tile { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.tile b { display: block; font-size: 1.3rem; }
.tile span { color: var(--muted); font-size: .85rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 16px; }
figure.chart { margin: 0; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
figure.chart figcaption { font-weight: 600; font-size: .9rem; margin-bottom: 4px; }
figure.chart svg { width: 100%; height: auto; display: block; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .axis { stroke: var(--muted); stroke-width: 1; }
svg .tick, svg .axis-label { fill: var(--muted); }
svg .bar:hover { opacity: .75; }
.legend { font-size: .8rem; color: var(--muted); }
.legend span { margin-right: 12px; white-space: nowrap; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; vertical-align: -1px; }
table { border-collapse: collapse; font-size: .88rem; margin: 8px 0; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: right; vertical-align: top; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
thead th { background: var(--panel); }
.warnings { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 8px 12px; }
.controls { display: flex; gap: 12px; flex-wrap: wrap; align-items: center; margin: 8px 0; }
.controls input[type=search] { padding: 4px 8px; min-width: 260px; }
#conversation-list { list-style: none; padding: 0; }
.conversation { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; }
.conversation > details > summary { cursor: pointer; padding: 8px 12px; background: var(--panel); }
.conversation .body { padding: 8px 12px; }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: .78rem; font-weight: 600; border: 1px solid currentColor; }
.badge.accepted, .badge.winner, .badge.passed, .badge.win { color: var(--ok); }
.badge.rejected, .badge.filtered, .badge.failed, .badge.lose { color: var(--bad); }
.badge.ranked, .badge.tie { color: var(--warn); }
.personas { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; font-size: .88rem; }
.personas ul { margin: 4px 0; padding-left: 18px; }
.candidate { border-top: 1px dashed var(--line); padding-top: 8px; margin-top: 8px; }
.turns { margin: 6px 0; font-size: .9rem; }
.turn { padding: 2px 0; }
.turn b { display: inline-block; min-width: 56px; color: var(--muted); font-weight: 600; }
.turn.u2 b { color: var(--accent); }
pre { white-space: pre-wrap; background: var(--panel); padding: 8px; border-radius: 4px; font-size: .85rem; }
footer { padding: 16px 32px; color: var(--muted); font-size: .8rem; border-top: 1px solid var(--line); }
`;

/**
 * Inline script of `report.html`: filters the conversation list by text, status and iteration.
 * Written defensively (no element may be missing) so the page never logs an error.
 */
export const REPORT_SCRIPT = `
(function () {
  'use strict';
  var list = document.getElementById('conversation-list');
  if (!list) return;
  var search = document.getElementById('conversation-search');
  var status = document.getElementById('conversation-status');
  var iteration = document.getElementById('conversation-iteration');
  var counter = document.getElementById('conversation-count');
  var items = Array.prototype.slice.call(list.querySelectorAll('li.conversation'));
  function apply() {
    var text = search ? search.value.trim().toLowerCase() : '';
    var wantedStatus = status ? status.value : '';
    var wantedIteration = iteration ? iteration.value : '';
    var shown = 0;
    items.forEach(function (item) {
      var visible = (!wantedStatus || item.getAttribute('data-status') === wantedStatus) &&
        (!wantedIteration || item.getAttribute('data-iteration') === wantedIteration) &&
        (!text || item.textContent.toLowerCase().indexOf(text) !== -1);
      item.hidden = !visible;
      if (visible) shown++;
    });
    if (counter) counter.textContent = shown + ' of ' + items.length + ' shown';
  }
  [search, status, iteration].forEach(function (control) {
    if (control) control.addEventListener('input', apply);
  });
  apply();
})();
`;
