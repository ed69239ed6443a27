/**
 * Requests by stage, named by the reply schema they ask for (`contradiction_checks`,
 * `listwise_ranking`, …); `text` for requests without one (the generator's conversations).
 */
export function countRequestsByStage(bodies: unknown[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const body of bodies) {
    const format = (body as { response_format?: { type?: string; json_schema?: { name?: string } } }).response_format;
    const stage = format?.json_schema?.name ?? format?.type ?? 'text';
    counts[stage] = (counts[stage] ?? 0) + 1;
  }
  return counts;
}
