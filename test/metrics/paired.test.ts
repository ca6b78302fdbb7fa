// Paired statistics on constructed cases whose answers are known.
import { pairedDiff } from '../../src/metrics/paired.js';

test('a steady gain: the interval excludes 0, and the sign-flip p is the exact 2/2^n', () => {
  const base = [0.5, 0.52, 0.48, 0.51, 0.49, 0.5, 0.53, 0.47, 0.5, 0.52];
  const gains = [0.02, 0.021, 0.019, 0.022, 0.018, 0.02, 0.021, 0.019, 0.02, 0.02];
  const r = pairedDiff(
    base.map((b, i) => b + gains[i]),
    base,
  );
  expect(r.diff).toBeCloseTo(0.02, 10);
  expect(r.pairs).toBe(10);
  expect(r.ci![0]).toBeGreaterThan(0.018);
  expect(r.ci![1]).toBeLessThan(0.022);
  // Only the observed signs and their mirror image are as extreme: 2 of 1024 patterns.
  expect(r.p).toBeCloseTo(2 / 1024, 12);
});

test('differences of either sign around 0: the interval contains 0 and p is large', () => {
  const d = [0.03, -0.03, 0.02, -0.02, 0.01, -0.01, 0.025, -0.025];
  const r = pairedDiff(
    d.map((x) => 0.5 + x),
    d.map(() => 0.5),
  );
  expect(r.diff).toBeCloseTo(0, 12);
  expect(r.ci![0]).toBeLessThan(0);
  expect(r.ci![1]).toBeGreaterThan(0);
  expect(r.p).toBe(1);
});

test('a large but inconsistent effect is not significant with few pairs; exact p for 3 pairs', () => {
  const r = pairedDiff([0.6, 0.5, 0.58], [0.5, 0.52, 0.5]); // diffs 0.1, -0.02, 0.08
  expect(r.diff).toBeCloseTo(0.16 / 3, 12);
  expect(r.ci![0]).toBeLessThan(0);
  // |mean| >= 0.0533 for the signs (+,-,+) and (-,+,-) only of 8, and (+,+,+)/(-,-,-): 4 of 8.
  expect(r.p).toBe(0.5);
});

test('a single pair: the difference, but no interval and no p-value; mismatched lengths refused', () => {
  expect(pairedDiff([0.6], [0.5])).toEqual({ diff: expect.closeTo(0.1, 12), ci: null, p: null, pairs: 1 });
  expect(() => pairedDiff([0.6, 0.5], [0.5])).toThrow(/differ in length/);
});

test('the bootstrap is seeded: the same pairs give the same interval', () => {
  const a = [0.5, 0.6, 0.55, 0.58, 0.52];
  const b = [0.48, 0.57, 0.55, 0.5, 0.5];
  expect(pairedDiff(a, b).ci).toEqual(pairedDiff(a, b).ci);
  expect(pairedDiff(a, b, { seed: 2 }).ci).not.toEqual(pairedDiff(a, b).ci);
});

describe('neutral drift by intensity', () => {
  test('the share of expressive clips predicted neutral, per intensity bin; neutral clips are not in the bins', async () => {
    const { computeMetrics } = await import('../../src/metrics/metrics.js');
    const NEUTRAL = 2;
    // Four weak happiness clips (intensity 0.1): three called neutral. Two strong ones (0.9): both right.
    const truth = [0, 0, 0, 0, 0, 0, NEUTRAL];
    const predicted = [NEUTRAL, NEUTRAL, NEUTRAL, 0, 0, 0, NEUTRAL];
    const intensity = [0.1, 0.1, 0.1, 0.1, 0.9, 0.9, undefined];
    const m = computeMetrics(truth, predicted, 7, intensity, NEUTRAL);
    expect(m.byIntensity!.map((b) => [b.clips, b.recall, b.toNeutral])).toEqual([
      [4, 0.25, 0.75],
      [0, 0, 0],
      [0, 0, 0],
      [2, 1, 0],
    ]);
    // Without a neutral class there is no drift to report.
    expect(computeMetrics(truth, predicted, 7, intensity).byIntensity![0].toNeutral).toBeUndefined();
  });
});
