// What kanri serve counts about its own requests, for /metrics: requests by route and
// status, and their durations as a Prometheus histogram.

/** A Prometheus histogram over fixed bucket bounds (seconds), with labels. */
export class Histogram {
  private readonly series = new Map<string, { counts: number[]; sum: number; n: number }>();
  constructor(readonly bounds: readonly number[]) {}

  observe(labels: string, v: number): void {
    let s = this.series.get(labels);
    if (!s) this.series.set(labels, (s = { counts: this.bounds.map(() => 0), sum: 0, n: 0 }));
    for (let i = 0; i < this.bounds.length; i++) if (v <= this.bounds[i]!) s.counts[i]!++;
    s.sum += v;
    s.n++;
  }

  /** The exposition lines of metric `name` (bucket, sum and count per label set). */
  lines(name: string): string[] {
    const out: string[] = [];
    for (const [labels, s] of this.series) {
      const sep = labels ? ',' : '';
      this.bounds.forEach((b, i) => out.push(`${name}_bucket{${labels}${sep}le="${b}"} ${s.counts[i]}`));
      out.push(`${name}_bucket{${labels}${sep}le="+Inf"} ${s.n}`);
      out.push(`${name}_sum${labels ? `{${labels}}` : ''} ${s.sum}`);
      out.push(`${name}_count${labels ? `{${labels}}` : ''} ${s.n}`);
    }
    return out;
  }
}

/** A label value as the text format writes it: backslash, quote and newline escaped. */
export const labelValue = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class HttpStats {
  readonly requests = new Map<string, number>();
  readonly durations = new Histogram([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]);

  observe(route: string, status: number, seconds: number): void {
    const labels = `route="${labelValue(route)}",code="${status}"`;
    this.requests.set(labels, (this.requests.get(labels) ?? 0) + 1);
    this.durations.observe(`route="${labelValue(route)}"`, seconds);
  }
}
