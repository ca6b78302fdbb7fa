// The field's metrics: WAR (weighted average recall = accuracy), UAR (unweighted average recall = mean per-class
// recall), the confusion matrix (rows: true class, columns: predicted), and recall by expression-intensity bin.

/** Recall of each class, UAR (mean recall), WAR (accuracy) and the confusion matrix (rows: true, columns: predicted). */
export interface Metrics {
  uar: number;
  war: number;
  perClass: number[]; // recall per class, NaN-free: a class with no clips has recall 0 and is excluded from UAR
  support: number[]; // clips per true class
  confusion: number[][];
  /** Recall by expression-intensity bin, when the data knows each clip's intensity (the synthetic benchmark). */
  /** Recall by apex intensity (expressive clips only); toNeutral: the share of them predicted neutral. */
  byIntensity?: { lo: number; hi: number; clips: number; recall: number; toNeutral?: number }[];
}

export const INTENSITY_BINS: [number, number][] = [
  [0, 0.25],
  [0.25, 0.5],
  [0.5, 0.75],
  [0.75, 1],
];

export function confusionMatrix(truth: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array(classes).fill(0));
  for (let i = 0; i < truth.length; i++) m[truth[i]][predicted[i]]++;
  return m;
}

/** Metrics from a confusion matrix; classes with no clips get recall 0 and are left out of UAR. */
export function metricsFromConfusion(confusion: number[][]): Metrics {
  const support = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const perClass = confusion.map((row, i) => (support[i] ? row[i] / support[i] : 0));
  const present = perClass.filter((_, i) => support[i] > 0);
  const total = support.reduce((a, b) => a + b, 0);
  const correct = confusion.reduce((a, row, i) => a + row[i], 0);
  return {
    uar: present.length ? present.reduce((a, b) => a + b, 0) / present.length : 0,
    war: total ? correct / total : 0,
    perClass,
    support,
    confusion,
  };
}

export function computeMetrics(
  truth: ArrayLike<number>,
  predicted: ArrayLike<number>,
  classes: number,
  intensity?: (number | undefined)[],
  neutral?: number,
): Metrics {
  const m = metricsFromConfusion(confusionMatrix(truth, predicted, classes));
  if (intensity?.some((v) => v !== undefined)) {
    const drift = neutral !== undefined && neutral >= 0;
    m.byIntensity = INTENSITY_BINS.map(([lo, hi]) => {
      let clips = 0;
      let right = 0;
      let toNeutral = 0;
      intensity.forEach((v, i) => {
        if (v === undefined || v < lo || (v >= hi && hi < 1) || v > hi) return;
        clips++;
        if (truth[i] === predicted[i]) right++;
        if (drift && predicted[i] === neutral && truth[i] !== neutral) toNeutral++;
      });
      // The paper's argument: weak expressions drift to "neutral". The share of the bin's (expressive) clips called so.
      return {
        lo,
        hi,
        clips,
        recall: clips ? right / clips : 0,
        ...(drift ? { toNeutral: clips ? toNeutral / clips : 0 } : {}),
      };
    });
  }
  return m;
}
