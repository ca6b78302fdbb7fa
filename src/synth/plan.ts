// The dataset plan: how many clips of each class, which fold's test split holds each clip, which person is in it,
// and every clip's parameters. A pure function of the options: each clip's draws come from its own streams
// (seed, clip index, component), so the plan, and the bytes rendered from it, do not depend on scheduling.
//
// Folds: like DFEW, five folds whose test splits partition the clips (fold k trains on the other four test splits).
// Stratified: the clips of each class are dealt round-robin over the folds, continuing where the previous class
// stopped, so every fold has the same number of clips of each class (+-1) and the fold sizes differ by at most 1.
// Identity-disjoint: the people are split into five pools, one per fold, and a clip only shows people of its fold's
// pool, so no person appears in both the train and the test split of any fold (stricter than a random split of clips:
// the synthetic benchmark measures generalisation to new faces).
import { DFEW_CLASSES } from '../config.js';
import type { ClipSpec } from './clip.js';
import { beta, clamp, streamFor } from './distributions.js';
import { drawExpression, drawIdentity, drawProfile, type Identity } from './face.js';
import { drawScene, type NuisanceKnobs } from './scene.js';

/** DFEW's class counts (fold 1 train), in DFEW_CLASSES order: the default class imbalance. */
export const DFEW_PROPORTIONS = [1956, 1515, 2135, 1738, 1175, 116, 721] as const;

export const FOLDS = 5;

export interface PlanOptions {
  clips: number;
  seed: number;
  balanced: boolean;
  minFrames: number;
  maxFrames: number;
  /** People in the dataset (default: one per 6 clips, at least 5). */
  identities?: number;
  /** Apex intensity ~ Beta(a, b), clamped to [minIntensity, 1]. */
  intensityA: number;
  intensityB: number;
  minIntensity: number;
  knobs: NuisanceKnobs;
}

export interface DatasetPlan {
  counts: number[];
  identities: Identity[];
  clips: ClipSpec[];
}

// Component tags of the random streams (any distinct numbers).
const STREAM = {
  classes: 1,
  identity: 2,
  length: 3,
  intensity: 4,
  expression: 5,
  profile: 6,
  scene: 7,
  assign: 8,
} as const;

/**
 * Clips per class: `balanced` splits evenly, otherwise in DFEW's proportions; largest remainders round, and with at
 * least 7 clips every class gets at least one (taken from the largest class).
 */
export function classCounts(total: number, balanced: boolean): number[] {
  const weights = balanced ? DFEW_CLASSES.map(() => 1) : [...DFEW_PROPORTIONS];
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const counts = exact.map(Math.floor);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const left = total - counts.reduce((a, b) => a + b, 0);
  for (let k = 0; k < left; k++) counts[order[k][1]]++;
  if (total >= weights.length) {
    for (let c = 0; c < counts.length; c++) {
      if (counts[c] > 0) continue;
      const largest = counts.indexOf(Math.max(...counts));
      counts[largest]--;
      counts[c]++;
    }
  }
  return counts;
}

export function defaultIdentities(clips: number): number {
  return Math.max(FOLDS, Math.round(clips / 6));
}

export function planDataset(o: PlanOptions): DatasetPlan {
  const counts = classCounts(o.clips, o.balanced);
  const classes = streamFor(o.seed, STREAM.classes).shuffle(counts.flatMap((n, c) => Array<number>(n).fill(c)));

  // Folds: deal each class's clips (in id order, which is random w.r.t. class) round-robin, continuing across classes.
  const fold = new Array<number>(o.clips);
  let dealt = 0;
  for (let c = 0; c < counts.length; c++) {
    for (let i = 0; i < o.clips; i++) if (classes[i] === c) fold[i] = (dealt++ % FOLDS) + 1;
  }

  // People: pool k (identities j with j % 5 == k - 1) serves fold k; a fold's clips take its people in turn, in a
  // shuffled order, so each person shows several classes.
  const nIdentities = Math.max(FOLDS, o.identities ?? defaultIdentities(o.clips));
  const identities = Array.from({ length: nIdentities }, (_, j) =>
    drawIdentity(streamFor(o.seed, STREAM.identity, j), j),
  );
  const identity = new Array<number>(o.clips);
  const assign = streamFor(o.seed, STREAM.assign);
  for (let k = 1; k <= FOLDS; k++) {
    const pool = identities.filter((p) => (p.index % FOLDS) + 1 === k).map((p) => p.index);
    const members = assign.shuffle(fold.flatMap((f, i) => (f === k ? [i] : [])));
    members.forEach((i, m) => (identity[i] = pool[m % pool.length]));
  }

  const clips: ClipSpec[] = [];
  for (let i = 0; i < o.clips; i++) {
    const frames = o.minFrames + streamFor(o.seed, STREAM.length, i).int(o.maxFrames - o.minFrames + 1);
    const intensity = clamp(
      beta(streamFor(o.seed, STREAM.intensity, i), o.intensityA, o.intensityB),
      o.minIntensity,
      1,
    );
    clips.push({
      index: i,
      id: clipId(i),
      classIndex: classes[i],
      fold: fold[i],
      identity: identity[i],
      frames,
      intensity,
      expression: drawExpression(streamFor(o.seed, STREAM.expression, i), classes[i], o.knobs.auJitter),
      profile: drawProfile(streamFor(o.seed, STREAM.profile, i), frames),
      scene: drawScene(streamFor(o.seed, STREAM.scene, i), o.knobs, frames),
    });
  }
  return { counts, identities, clips };
}

/** DFEW clip ids: 5 digits, from 00001. */
export const clipId = (index: number) => String(index + 1).padStart(5, '0');
