// Latency recording in the HDR style: log-linear buckets (128 per power of two, so any
// value is kept within 0.8 %), constant memory whatever the run length, O(1) to record.

const SUB_BITS = 8;
const SUB = 1 << SUB_BITS;
/** Values are recorded in nanoseconds; 2^40 ns is over 18 minutes, more than any request. */
const MAX_EXP = 40;

/** A latency histogram; record in milliseconds (as `performance.now()` differences). */
export class Histogram {
  private readonly counts = new Float64Array((MAX_EXP + 1) * SUB);
  private total = 0;
  private maxNs = 0;

  /** Records one latency, in milliseconds. */
  record(ms: number): void {
    const ns = Math.max(1, Math.round(ms * 1e6));
    const b = bucketOf(ns);
    this.counts[b] = (this.counts[b] ?? 0) + 1;
    this.total++;
    if (ns > this.maxNs) this.maxNs = ns;
  }

  get count(): number {
    return this.total;
  }

  /** The latency, in milliseconds, below which `q` (0..1) of the recorded values fall. */
  quantile(q: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(valueOf(i), this.maxNs) / 1e6;
    }
    return this.maxNs / 1e6;
  }

  get max(): number {
    return this.maxNs / 1e6;
  }

  /** Adds another histogram's values to this one. */
  merge(other: Histogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] = (this.counts[i] ?? 0) + (other.counts[i] ?? 0);
    this.total += other.total;
    this.maxNs = Math.max(this.maxNs, other.maxNs);
  }
}

function bucketOf(ns: number): number {
  if (ns < SUB) return ns;
  const exp = Math.min(MAX_EXP, Math.floor(Math.log2(ns)) - SUB_BITS + 1);
  const sub = Math.min(SUB - 1, Math.floor(ns / 2 ** exp) - SUB / 2);
  // Exponent 0 holds 0..SUB-1 exactly; exponent e >= 1 holds SUB/2 sub-buckets of width 2^e.
  return SUB + (exp - 1) * (SUB / 2) + sub;
}

/** The upper edge of a bucket, so quantiles err on the slow side. */
function valueOf(i: number): number {
  if (i < SUB) return i;
  const exp = Math.floor((i - SUB) / (SUB / 2)) + 1;
  const sub = (i - SUB) % (SUB / 2);
  return (sub + SUB / 2 + 1) * 2 ** exp - 1;
}
