/** A count or amount with `digits` fraction digits (en-US grouping); `–` when missing. */
export const formatReportNumber = (value: number | undefined | null, digits = 0) =>
  value === undefined || value === null
    ? '–'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A share in [0, 1] as a percentage with one decimal; `–` when missing. */
export const formatReportPercent = (value: number | null | undefined) =>
  value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)}%`;

/** US dollars, four decimals below $1 and two above; `–` when missing. */
export const formatReportUsd = (value: number | undefined) =>
  value === undefined ? '–' : `$${value.toFixed(value < 1 ? 4 : 2)}`;

/** Milliseconds as seconds, minutes or hours, whichever reads best; `–` when missing. */
export const formatReportDuration = (milliseconds: number | undefined) => {
  if (milliseconds === undefined) return '–';
  const seconds = milliseconds / 1000;
  return seconds < 120
    ? `${seconds.toFixed(1)} s`
    : seconds < 7200
      ? `${(seconds / 60).toFixed(1)} min`
      : `${(seconds / 3600).toFixed(2)} h`;
};
