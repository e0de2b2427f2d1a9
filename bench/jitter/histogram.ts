/**
 * A latency histogram in 1 ms buckets up to 120 s (and the exact maximum): workers add their
 * samples, the main process merges the counts and reads percentiles, so millions of samples
 * cost 120,000 counters, not millions of numbers sent between processes.
 * @packageDocumentation
 */

const BUCKETS = 120_000;

/** Counts per millisecond. */
export class Histogram {
  counts: number[] = new Array<number>(BUCKETS).fill(0);
  n = 0;
  max = 0;

  /** Adds one sample in ms (negative clock skew counts as 0). */
  add(ms: number): void {
    const v = Math.max(0, ms);
    this.counts[Math.min(BUCKETS - 1, Math.floor(v))]!++;
    this.n++;
    if (v > this.max) this.max = v;
  }

  /** Adds another histogram's counts. */
  merge(other: { counts: number[]; n: number; max: number }): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i] ?? 0;
    this.n += other.n;
    this.max = Math.max(this.max, other.max);
  }

  /** The p-th percentile, as the upper edge of its bucket (ms). */
  percentile(p: number): number {
    if (this.n === 0) return Number.NaN;
    const rank = Math.ceil((p / 100) * this.n);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(i + 1, this.max);
    }
    return this.max;
  }

  /** A compact form for IPC: only the non-zero buckets. */
  toJSON(): { sparse: Array<[number, number]>; n: number; max: number } {
    const sparse: Array<[number, number]> = [];
    this.counts.forEach((c, i) => { if (c > 0) sparse.push([i, c]); });
    return { sparse, n: this.n, max: this.max };
  }

  /** Back from {@link toJSON}. */
  static from(json: { sparse: Array<[number, number]>; n: number; max: number }): Histogram {
    const h = new Histogram();
    for (const [i, c] of json.sparse) h.counts[i] = c;
    h.n = json.n;
    h.max = json.max;
    return h;
  }
}
