// The k-fold cross-validation summary of the DFER protocol: each fold's test metrics, and the mean and the sample
// standard deviation over folds of UAR, WAR and the recall of each class.
import type { Metrics } from '../metrics/metrics.js';

export interface FoldMetrics {
  fold: number | string;
  metrics: Metrics;
  /** The run directory or checkpoint the metrics came from. */
  run?: string;
  /** Which split chose the fold's checkpoint; 'test' is the optimistic best-on-test habit. */
  selectedOn?: 'val' | 'test';
}

export interface FoldSummary {
  uar: number;
  war: number;
  perClass: number[];
}

export interface CrossValResults {
  classes: string[];
  folds: FoldMetrics[];
  mean: FoldSummary;
  /** Sample standard deviation (n - 1); NaN with fewer than 2 values (JSON: null). */
  sd: FoldSummary;
}

/** Mean and sample standard deviation (divisor n - 1; NaN for n < 2, and both NaN for n = 0). */
export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const n = xs.length;
  if (n === 0) return { mean: NaN, sd: NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, sd: NaN };
  const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  return { mean, sd: Math.sqrt(ss / (n - 1)) };
}

/**
 * Mean and sd over folds of UAR, WAR and each class's recall. A class's recall is averaged over the folds whose test
 * split holds clips of it (support > 0): a fold without the class reports recall 0, which is not a measurement.
 */
export function aggregateFolds(rows: readonly FoldMetrics[], classes: readonly string[]): CrossValResults {
  if (rows.length === 0) throw new Error('aggregateFolds: no folds to aggregate');
  const k = classes.length;
  for (const r of rows) {
    if (r.metrics.perClass.length !== k) {
      throw new Error(
        `aggregateFolds: fold ${r.fold} has ${r.metrics.perClass.length} classes, expected ${k} (${classes.join(', ')})`,
      );
    }
  }
  const seen = new Set<string>();
  for (const r of rows) {
    if (seen.has(String(r.fold))) throw new Error(`aggregateFolds: fold ${r.fold} is listed twice`);
    seen.add(String(r.fold));
  }
  const uar = meanSd(rows.map((r) => r.metrics.uar));
  const war = meanSd(rows.map((r) => r.metrics.war));
  const perClass = classes.map((_, c) =>
    meanSd(rows.filter((r) => (r.metrics.support[c] ?? 1) > 0).map((r) => r.metrics.perClass[c])),
  );
  return {
    classes: [...classes],
    folds: [...rows],
    mean: { uar: uar.mean, war: war.mean, perClass: perClass.map((s) => s.mean) },
    sd: { uar: uar.sd, war: war.sd, perClass: perClass.map((s) => s.sd) },
  };
}
