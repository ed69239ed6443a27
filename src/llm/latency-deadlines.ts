/** How `LatencyDeadlines` turns observed latencies into a deadline. */
export interface LatencyDeadlineOptions {
  /** The deadline is this multiple of the percentile. @defaultValue 2 */
  multiplier?: number;
  /** Which percentile of the recent latencies, 0..1. @defaultValue 0.95 */
  percentile?: number;
  /** Shortest deadline in milliseconds. @defaultValue 1000 */
  floorMs?: number;
  /** Longest deadline in milliseconds (the request timeout). */
  ceilingMs: number;
  /** Latencies needed before the deadline is learned rather than `coldMs`. @defaultValue 1 */
  minSamples?: number;
  /** The deadline before `minSamples` latencies are known, at most `ceilingMs`. @defaultValue 30000 */
  coldMs?: number;
  /** Latencies kept per key (the most recent). @defaultValue 256 */
  window?: number;
}

interface Series {
  samples: number[];
  next: number;
  /** The deadline for the current samples; recomputed after a new sample. */
  deadlineMs: number | undefined;
}

/**
 * Deadlines learned from observed latencies, per key (role and model): `multiplier × percentile`
 * of the most recent latencies of successful requests, at least `floorMs`, at most `ceilingMs`.
 * Until `minSamples` latencies are known the deadline is `coldMs` (30 s, at most `ceilingMs`).
 */
export class LatencyDeadlines {
  private readonly series = new Map<string, Series>();
  private readonly multiplier: number;
  private readonly percentile: number;
  private readonly floorMs: number;
  private readonly ceilingMs: number;
  private readonly minSamples: number;
  private readonly coldMs: number;
  private readonly window: number;

  constructor(options: LatencyDeadlineOptions) {
    this.multiplier = options.multiplier ?? 2;
    this.percentile = options.percentile ?? 0.95;
    this.floorMs = options.floorMs ?? 1000;
    this.ceilingMs = options.ceilingMs;
    this.minSamples = options.minSamples ?? 1;
    this.coldMs = Math.min(options.coldMs ?? 30_000, this.ceilingMs);
    this.window = options.window ?? 256;
    for (const [name, value] of [
      ['multiplier', this.multiplier],
      ['floorMs', this.floorMs],
      ['ceilingMs', this.ceilingMs],
    ] as const) {
      if (!(value > 0)) throw new RangeError(`Expected \`${name}\` to be a positive number, got ${value}.`);
    }
    if (!(this.percentile > 0 && this.percentile <= 1)) {
      throw new RangeError(`Expected \`percentile\` to be a number in (0, 1], got ${this.percentile}.`);
    }
  }

  /** Records the latency of one successful request. */
  observe(key: string, latencyMs: number): void {
    let series = this.series.get(key);
    if (!series) this.series.set(key, (series = { samples: [], next: 0, deadlineMs: undefined }));
    if (series.samples.length < this.window) series.samples.push(latencyMs);
    else series.samples[series.next] = latencyMs;
    series.next = (series.next + 1) % this.window;
    series.deadlineMs = undefined;
  }

  /** The current deadline for `key`, in milliseconds. */
  deadlineMs(key: string): number {
    const series = this.series.get(key);
    if (!series || series.samples.length < this.minSamples) return this.coldMs;
    if (series.deadlineMs === undefined) {
      const sorted = [...series.samples].sort((left, right) => left - right);
      const value = sorted[Math.min(sorted.length - 1, Math.ceil(this.percentile * sorted.length) - 1)];
      series.deadlineMs = Math.min(this.ceilingMs, Math.max(this.floorMs, this.multiplier * value));
    }
    return series.deadlineMs;
  }
}
