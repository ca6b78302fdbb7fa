import { DFEW_CLASSES } from '../../src/config.js';
import { betaCdf } from '../../src/synth/distributions.js';
import { classCounts, DFEW_PROPORTIONS, FOLDS, planDataset, type PlanOptions } from '../../src/synth/plan.js';
import { DEFAULT_KNOBS } from '../../src/synth/scene.js';
import { SYNTH_DEFAULTS } from '../../src/synth/generate.js';

const planOpts = (over: Partial<PlanOptions> = {}): PlanOptions => ({
  clips: 600,
  seed: 3,
  balanced: false,
  minFrames: 20,
  maxFrames: 40,
  intensityA: SYNTH_DEFAULTS.intensity.a,
  intensityB: SYNTH_DEFAULTS.intensity.b,
  minIntensity: SYNTH_DEFAULTS.intensity.min,
  knobs: DEFAULT_KNOBS,
  ...over,
});

test('class counts: DFEW proportions by default (largest remainders), equal when balanced', () => {
  const sum = DFEW_PROPORTIONS.reduce((a, b) => a + b, 0);
  for (const n of [7, 50, 600, 1234]) {
    const c = classCounts(n, false);
    expect(c.reduce((a, b) => a + b, 0)).toBe(n);
    c.forEach((k, i) => expect(Math.abs(k - (n * DFEW_PROPORTIONS[i]) / sum)).toBeLessThan(1.01));
    expect(Math.min(...c)).toBeGreaterThanOrEqual(1); // every class present from 7 clips on
  }
  expect(classCounts(600, false)).toEqual([125, 97, 137, 112, 75, 8, 46]); // disgust 1.3%, fear 7.7%
  expect(classCounts(70, true)).toEqual([10, 10, 10, 10, 10, 10, 10]);
  expect(classCounts(72, true)).toEqual([11, 11, 10, 10, 10, 10, 10]);
});

test('plan: the requested class counts, stratified folds of equal size, no person on both sides of a fold', () => {
  const plan = planDataset(planOpts());
  const { clips } = plan;
  expect(clips).toHaveLength(600);
  const perClass = DFEW_CLASSES.map((_, c) => clips.filter((s) => s.classIndex === c).length);
  expect(perClass).toEqual(classCounts(600, false));
  const sizes = Array.from({ length: FOLDS }, (_, k) => clips.filter((c) => c.fold === k + 1).length);
  expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  for (let c = 0; c < DFEW_CLASSES.length; c++) {
    const byFold = Array.from(
      { length: FOLDS },
      (_, k) => clips.filter((s) => s.classIndex === c && s.fold === k + 1).length,
    );
    expect(Math.max(...byFold) - Math.min(...byFold)).toBeLessThanOrEqual(1);
  }
  for (let k = 1; k <= FOLDS; k++) {
    const test = new Set(clips.filter((c) => c.fold === k).map((c) => c.identity));
    const train = new Set(clips.filter((c) => c.fold !== k).map((c) => c.identity));
    expect([...test].filter((p) => train.has(p))).toEqual([]);
  }
  expect(plan.identities).toHaveLength(100);
  // ids, lengths and intensities as documented
  expect(clips.map((c) => c.id)).toEqual(clips.map((_, i) => String(i + 1).padStart(5, '0')));
  for (const c of clips) {
    expect(c.frames).toBeGreaterThanOrEqual(20);
    expect(c.frames).toBeLessThanOrEqual(40);
    expect(c.intensity).toBeGreaterThan(0);
    expect(c.intensity).toBeLessThanOrEqual(1);
    expect(c.profile.apexStart).toBeLessThanOrEqual(c.frames - 1);
  }
  // A real share of low-intensity clips, as the Beta distribution says.
  const { a, b } = SYNTH_DEFAULTS.intensity;
  const share = (below: number) => clips.filter((c) => c.intensity < below).length / clips.length;
  expect(Math.abs(share(0.25) - betaCdf(0.25, a, b))).toBeLessThan(0.05);
  expect(Math.abs(share(0.5) - betaCdf(0.5, a, b))).toBeLessThan(0.05);
  expect(share(0.5)).toBeGreaterThan(0.2);
});

test('balanced plans; a clip keeps its parameters when the set grows', () => {
  const small = planDataset(planOpts({ clips: 70, balanced: true }));
  expect(DFEW_CLASSES.map((_, c) => small.clips.filter((s) => s.classIndex === c).length)).toEqual(
    new Array(7).fill(10),
  );
  // Per-clip streams: clip 5's intensity and length depend on (seed, index) only.
  const big = planDataset(planOpts({ clips: 140, balanced: true }));
  expect(big.clips[5].intensity).toBe(small.clips[5].intensity);
  expect(big.clips[5].frames).toBe(small.clips[5].frames);
  expect(planDataset(planOpts({ clips: 70, balanced: true, seed: 4 })).clips[5].intensity).not.toBe(
    small.clips[5].intensity,
  );
});
