import { escapeHtml } from './escape-html.ts';

/** One series of a bar chart: one value per category. */
export interface BarSeries {
  name: string;
  values: readonly number[];
  /** CSS color. */
  color: string;
}

/** Options of `renderBarChart`. */
export interface BarChartOptions {
  /** Stable identifier, written as `data-chart` (tests and links use it). */
  id: string;
  title: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  /** Stack the series instead of grouping them side by side. @defaultValue false */
  stacked?: boolean;
  /** Label of the value axis. */
  valueLabel?: string;
  /** Formats values in tooltips and ticks. @defaultValue up to 2 decimals */
  formatValue?: (value: number) => string;
  /** Drawing size in CSS pixels (the SVG scales to its container). @defaultValue 640 × 260 */
  width?: number;
  height?: number;
}

const BASE_MARGIN = { top: 12, right: 12, bottom: 44, left: 56 };

/** Smallest size, in CSS pixels, axis and tick text is shown at. */
export const CHART_MIN_FONT_PX = 11;
/**
 * Narrowest width a chart is drawn at, in CSS pixels: a report grid column (420 px, see
 * `REPORT_CSS`) less the figure's padding and border. The SVG scales to its container, so its
 * text is sized in drawing units that come out at `CHART_MIN_FONT_PX` or more at this width.
 */
export const CHART_MIN_RENDERED_WIDTH_PX = 394;

/** Font size, in drawing units, of a chart `width` units wide (see `CHART_MIN_RENDERED_WIDTH_PX`). */
export function chartFontSize(width: number): number {
  return Math.ceil((CHART_MIN_FONT_PX * Math.max(width, CHART_MIN_RENDERED_WIDTH_PX)) / CHART_MIN_RENDERED_WIDTH_PX);
}

const defaultFormat = (value: number) => (Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(2));

/** Round tick values covering [0, maximum]: steps of 1, 2 or 5 × 10^k. */
export function niceTicks(maximum: number, count = 5): number[] {
  if (!(maximum > 0)) return [0, 1];
  const rough = maximum / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step =
    [1, 2, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= rough) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let value = 0; value < maximum + step * 0.999; value += step) ticks.push(Number(value.toPrecision(12)));
  return ticks;
}

/**
 * A self-contained SVG bar chart (grouped or stacked) inside a `<figure class="chart">` with a
 * caption and a legend; each bar has a `<title>` tooltip. No script, no external resources; every
 * text is escaped. An empty chart renders a "no data" note instead of axes.
 */
export function renderBarChart(options: BarChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 260;
  const format = options.formatValue ?? defaultFormat;
  const { categories, series } = options;
  const caption = `<figcaption>${escapeHtml(options.title)}</figcaption>`;
  const hasData = categories.length > 0 && series.some((entry) => entry.values.some((value) => value > 0));
  if (!hasData) {
    return `<figure class="chart chart-empty" data-chart="${escapeHtml(options.id)}">${caption}<p class="muted">No data.</p></figure>`;
  }

  const totals = categories.map((_, index) =>
    options.stacked
      ? series.reduce((sum, entry) => sum + Math.max(0, entry.values[index] ?? 0), 0)
      : Math.max(...series.map((entry) => entry.values[index] ?? 0)),
  );
  const ticks = niceTicks(Math.max(...totals));
  const top = ticks[ticks.length - 1];
  // Margins and label spacing grow with the text, which grows with the drawing's width.
  const fontSize = chartFontSize(width);
  const grow = fontSize / CHART_MIN_FONT_PX;
  const MARGIN = {
    top: BASE_MARGIN.top,
    right: BASE_MARGIN.right,
    bottom: Math.round(BASE_MARGIN.bottom * grow),
    left: Math.round(BASE_MARGIN.left * grow),
  };
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const y = (value: number) => MARGIN.top + plotHeight - (value / top) * plotHeight;
  const band = plotWidth / categories.length;
  const barGap = Math.min(8, band * 0.2);
  const groupWidth = band - barGap;
  const barWidth = options.stacked ? groupWidth : groupWidth / series.length;
  const labelEvery = Math.ceil(categories.length / Math.max(1, Math.floor(plotWidth / (36 * grow))));

  const parts: string[] = [];
  for (const tick of ticks) {
    parts.push(
      `<line class="grid" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}"/>`,
      `<text class="tick" x="${MARGIN.left - 6}" y="${(y(tick) + fontSize / 3).toFixed(1)}" text-anchor="end">${escapeHtml(format(tick))}</text>`,
    );
  }
  categories.forEach((category, index) => {
    const groupX = MARGIN.left + index * band + barGap / 2;
    let stackBase = 0;
    series.forEach((entry, seriesIndex) => {
      const value = Math.max(0, entry.values[index] ?? 0);
      if (value <= 0) return;
      const x = options.stacked ? groupX : groupX + seriesIndex * barWidth;
      const yTop = y(stackBase + value);
      const yBottom = y(stackBase);
      if (options.stacked) stackBase += value;
      parts.push(
        `<rect class="bar" x="${x.toFixed(1)}" y="${yTop.toFixed(1)}" width="${Math.max(1, barWidth - 1).toFixed(1)}" height="${Math.max(0.5, yBottom - yTop).toFixed(1)}" fill="${escapeHtml(entry.color)}">` +
          `<title>${escapeHtml(`${category} · ${entry.name}: ${format(value)}`)}</title></rect>`,
      );
    });
    if (index % labelEvery === 0) {
      parts.push(
        `<text class="tick" x="${(groupX + groupWidth / 2).toFixed(1)}" y="${(height - MARGIN.bottom + fontSize * 1.45).toFixed(1)}" text-anchor="middle">${escapeHtml(category)}</text>`,
      );
    }
  });
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${y(0)}" y2="${y(0)}"/>`);
  if (options.valueLabel) {
    parts.push(
      `<text class="axis-label" transform="translate(${Math.round(fontSize * 1.2)} ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(options.valueLabel)}</text>`,
    );
  }
  const legend =
    series.length > 1
      ? `<div class="legend">${series.map((entry) => `<span><i style="background:${escapeHtml(entry.color)}"></i>${escapeHtml(entry.name)}</span>`).join('')}</div>`
      : '';
  return (
    `<figure class="chart" data-chart="${escapeHtml(options.id)}">${caption}` +
    `<svg viewBox="0 0 ${width} ${height}" font-size="${fontSize}" role="img" aria-label="${escapeHtml(options.title)}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>` +
    `${legend}</figure>`
  );
}

/**
 * Bins numbers for a histogram: integer bins when all values are integers spanning at most
 * `maxBins` values, otherwise `maxBins` equal-width bins between the minimum and maximum.
 */
export function binValues(
  values: readonly number[],
  maxBins = 20,
): { labels: string[]; counts: number[]; edges: number[] } {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return binValueCounts(counts, maxBins);
}

/** `binValues` of values given as value → how many times it occurs (memory bounded by distinct values). */
export function binValueCounts(
  valueCounts: ReadonlyMap<number, number>,
  maxBins = 20,
): { labels: string[]; counts: number[]; edges: number[] } {
  if (valueCounts.size === 0) return { labels: [], counts: [], edges: [] };
  let minimum = Infinity;
  let maximum = -Infinity;
  let total = 0;
  let integers = true;
  for (const [value, count] of valueCounts) {
    if (value < minimum) minimum = value;
    if (value > maximum) maximum = value;
    if (!Number.isInteger(value)) integers = false;
    total += count;
  }
  if (integers && maximum - minimum + 1 <= maxBins) {
    const edges = Array.from({ length: maximum - minimum + 1 }, (_, index) => minimum + index);
    const counts = edges.map(() => 0);
    for (const [value, count] of valueCounts) counts[value - minimum] += count;
    return { labels: edges.map(String), counts, edges };
  }
  if (maximum === minimum)
    return { labels: [String(Number(minimum.toPrecision(3)))], counts: [total], edges: [minimum] };
  const width = (maximum - minimum) / maxBins;
  const binCount = maxBins;
  const edges = Array.from({ length: binCount }, (_, index) => minimum + index * width);
  const counts = edges.map(() => 0);
  for (const [value, count] of valueCounts)
    counts[Math.min(binCount - 1, Math.floor((value - minimum) / width))] += count;
  const label = (value: number) => (integers ? String(Math.ceil(value)) : Number(value.toPrecision(3)).toString());
  return { labels: edges.map((edge) => `${label(edge)}–${label(edge + width)}`), counts, edges };
}
