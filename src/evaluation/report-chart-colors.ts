/** Series colours of the report charts, used in order and repeated when there are more series. */
export const REPORT_CHART_COLORS = [
  '#0969da',
  '#1a7f37',
  '#cf222e',
  '#9a6700',
  '#8250df',
  '#bf3989',
  '#1b7c83',
  '#6e7781',
];
