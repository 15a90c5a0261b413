// Percentiles from sorted samples (nearest rank), and the clock every figure is read from.

/** Now, in nanoseconds, from the monotonic clock. */
export const now = () => process.hrtime.bigint();

/** Nanoseconds between two readings of now(), as a Number. */
export const elapsedNs = (t0, t1 = now()) => Number(t1 - t0);

/** The p-th percentile (0 < p ≤ 100) of samples by the nearest-rank method. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/** Sorted copy, with the percentiles the report uses. */
export function summarize(samples) {
  const sorted = Float64Array.from(samples).sort();
  return {
    n: sorted.length,
    min: sorted[0] ?? null,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? null,
  };
}

export const median = (samples) => summarize(samples).p50;

/** Rounds for the report: 3 significant digits, at most 3 decimals. */
export function round(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return x ?? null;
  if (x === 0) return 0;
  const digits = Math.max(0, Math.min(3, 2 - Math.floor(Math.log10(Math.abs(x)))));
  return Number(x.toFixed(digits));
}
