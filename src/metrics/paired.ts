// Paired comparisons of two settings over the same (fold, seed) pairs: is a difference of 2 points the setting, or the
// seed? One pair is one fold trained with one seed under both settings: the same data order and initialisation, so
// its difference measures the setting. The pairs are the independent units (each is two whole training runs), so:
//   - the 95% interval is a percentile bootstrap over the pairs: the run-to-run variation, which dominates on a test
//     split of a few hundred clips, is what it must carry; resampling clips within a run would leave it out;
//   - the p-value is an exact paired sign-flip permutation test (all 2^n sign patterns up to 16 pairs, 20,000 random
//     ones above): no normality assumption for a handful of pairs, and exact where it matters.
// With a single pair no interval or p-value can be given (both null).
import { Rng } from '../random.js';
import type { Metrics } from '../metrics/metrics.js';

export interface PairedDiff {
  /** Mean of the paired differences (setting - baseline). */
  diff: number;
  /** 95% percentile-bootstrap interval of that mean over the pairs; null with fewer than 2 pairs. */
  ci: [number, number] | null;
  /** Two-sided p-value of the paired sign-flip test; null with fewer than 2 pairs. */
  p: number | null;
  pairs: number;
}

export interface PairedOptions {
  resamples?: number;
  level?: number;
  seed?: number;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The value at quantile q of sorted xs (linear interpolation between order statistics). */
function quantile(sorted: readonly number[], q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/** The paired comparison of `setting` against `baseline`, values given pair by pair in the same order. */
export function pairedDiff(setting: readonly number[], baseline: readonly number[], o: PairedOptions = {}): PairedDiff {
  if (setting.length !== baseline.length)
    throw new RangeError(`paired values differ in length: ${setting.length} vs ${baseline.length}`);
  const d = setting.map((v, i) => v - baseline[i]);
  const n = d.length;
  if (n === 0) return { diff: NaN, ci: null, p: null, pairs: 0 };
  const diff = mean(d);
  if (n < 2) return { diff, ci: null, p: null, pairs: n };
  const rng = new Rng(o.seed ?? 1);
  const level = o.level ?? 0.95;
  // Bootstrap: means of n pairs drawn with replacement.
  const B = o.resamples ?? 10000;
  const means = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[rng.int(n)];
    means[b] = s / n;
  }
  const sorted = Array.from(means).sort((a, b) => a - b);
  const ci: [number, number] = [quantile(sorted, (1 - level) / 2), quantile(sorted, 1 - (1 - level) / 2)];
  // Sign-flip test: under "no effect" each pair's difference is as likely to have either sign.
  const observed = Math.abs(diff) - 1e-12;
  let extreme = 0;
  let total = 0;
  if (n <= 16) {
    for (let mask = 0; mask < 1 << n; mask++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += mask & (1 << i) ? -d[i] : d[i];
      if (Math.abs(s / n) >= observed) extreme++;
      total++;
    }
  } else {
    const R = 20000;
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += rng.next() < 0.5 ? -d[i] : d[i];
      if (Math.abs(s / n) >= observed) extreme++;
      total++;
    }
    // The observed signs are one of the patterns (keeps p above 0).
    extreme++;
    total++;
  }
  return { diff, ci, p: extreme / total, pairs: n };
}

// ---------------------------------------------------------------------------------------------------------------
// A setting's test metrics against the baseline's, pair by pair (dfer ablate's cells, dfer eval --baseline)

export interface VsBaseline {
  baseline: string;
  uar: PairedDiff;
  war: PairedDiff;
  byIntensity?: ({ lo: number; hi: number } & PairedDiff)[];
}

/** Pairs of [setting's, baseline's] test metrics of the same fold and seed -> the paired differences. */
export function compareMetricPairs(pairs: readonly (readonly [Metrics, Metrics])[], baseline: string): VsBaseline {
  const of = (f: (m: Metrics) => number) =>
    pairedDiff(
      pairs.map(([a]) => f(a)),
      pairs.map(([, b]) => f(b)),
    );
  const out: VsBaseline = { baseline, uar: of((m) => m.uar), war: of((m) => m.war) };
  const bins = pairs[0]?.[0].byIntensity;
  if (bins?.length) {
    out.byIntensity = bins.map((b, k) => {
      // Pairs where both runs' test splits hold clips of this bin.
      const both = pairs.filter(
        ([a, c]) => (a.byIntensity?.[k]?.clips ?? 0) > 0 && (c.byIntensity?.[k]?.clips ?? 0) > 0,
      );
      return {
        lo: b.lo,
        hi: b.hi,
        ...pairedDiff(
          both.map(([a]) => a.byIntensity![k].recall),
          both.map(([, c]) => c.byIntensity![k].recall),
        ),
      };
    });
  }
  return out;
}

const signedPoints = (v: number) => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(2)}`;

/** "+2.15 [0.31, 4.02]" and "0.031" (points); with one pair "+2.15 (1 pair)" and "-": no interval can be given. */
export function pairedCells(d: PairedDiff): [string, string] {
  if (!Number.isFinite(d.diff)) return ['n/a', ''];
  if (!d.ci) return [`${signedPoints(d.diff)} (${d.pairs} pair: no interval)`, '-'];
  return [
    `${signedPoints(d.diff)} [${(100 * d.ci[0]).toFixed(2)}, ${(100 * d.ci[1]).toFixed(2)}]`,
    d.p! < 0.001 ? '<0.001' : d.p!.toFixed(3),
  ];
}

const pairedJson = (d: PairedDiff) => ({
  diff: Number.isFinite(d.diff) ? d.diff : null,
  ci: d.ci,
  p: d.p,
  pairs: d.pairs,
});

/** vs_baseline of results.json: {baseline, uar, war: {diff, ci: [low, high] | null, p | null, pairs}, by_intensity}. */
export function vsBaselineJson(v: VsBaseline): Record<string, unknown> {
  return {
    baseline: v.baseline,
    uar: pairedJson(v.uar),
    war: pairedJson(v.war),
    ...(v.byIntensity ? { by_intensity: v.byIntensity.map((b) => ({ lo: b.lo, hi: b.hi, ...pairedJson(b) })) } : {}),
  };
}
