// The 5-fold summary arithmetic (src/analysis/aggregate.ts) against numbers worked out by hand.
import { aggregateFolds, meanSd, type FoldMetrics } from '../../src/metrics/aggregate.js';
import type { Metrics } from '../../src/metrics/metrics.js';

const m = (uar: number, war: number, perClass: number[], support: number[]): Metrics => ({
  uar,
  war,
  perClass,
  support,
  confusion: [],
});

describe('meanSd', () => {
  test('sample sd (n - 1); NaN when it is undefined', () => {
    expect(meanSd([2, 4, 4, 4, 5, 5, 7, 9]).mean).toBe(5);
    // squares of deviations: 9+1+1+1+0+0+4+16 = 32; 32 / 7
    expect(meanSd([2, 4, 4, 4, 5, 5, 7, 9]).sd).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(meanSd([0.3])).toEqual({ mean: 0.3, sd: NaN });
    expect(meanSd([])).toEqual({ mean: NaN, sd: NaN });
  });
});

describe('aggregateFolds', () => {
  const rows: FoldMetrics[] = [
    { fold: 1, metrics: m(0.5, 0.55, [0.4, 1.0], [10, 5]) },
    { fold: 2, metrics: m(0.6, 0.65, [0.6, 0.0], [10, 0]) }, // no clips of class b in this fold's test split
    { fold: 3, metrics: m(0.7, 0.9, [0.8, 0.5], [10, 4]), selectedOn: 'test' },
  ];

  test('mean and sample sd of UAR, WAR and per-class recall', () => {
    const agg = aggregateFolds(rows, ['a', 'b']);
    expect(agg.classes).toEqual(['a', 'b']);
    expect(agg.folds).toEqual(rows);
    expect(agg.mean.uar).toBeCloseTo(0.6, 12);
    expect(agg.sd.uar).toBeCloseTo(0.1, 12); // (0.01 + 0 + 0.01) / 2 = 0.01
    expect(agg.mean.war).toBeCloseTo(0.7, 12);
    expect(agg.sd.war).toBeCloseTo(Math.sqrt(0.0325), 12); // (0.0225 + 0.0025 + 0.04) / 2
    expect(agg.mean.perClass[0]).toBeCloseTo(0.6, 12);
    expect(agg.sd.perClass[0]).toBeCloseTo(0.2, 12);
    // class b: folds 1 and 3 only (fold 2 has no clips of it): mean 0.75, sd sqrt(2 * 0.25^2 / 1)
    expect(agg.mean.perClass[1]).toBeCloseTo(0.75, 12);
    expect(agg.sd.perClass[1]).toBeCloseTo(Math.sqrt(0.125), 12);
  });

  test('one fold: sd is NaN; errors for no folds, a class-count mismatch, a repeated fold', () => {
    const one = aggregateFolds([rows[0]], ['a', 'b']);
    expect(one.mean.uar).toBe(0.5);
    expect(one.sd.uar).toBeNaN();
    expect(() => aggregateFolds([], ['a', 'b'])).toThrow(/no folds/);
    expect(() => aggregateFolds(rows, ['a', 'b', 'c'])).toThrow(/fold 1 has 2 classes, expected 3/);
    expect(() => aggregateFolds([rows[0], rows[0]], ['a', 'b'])).toThrow(/fold 1 is listed twice/);
  });
});
