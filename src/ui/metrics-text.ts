// Metrics as text, shared by the training reporter and `dfer eval`: the paper's Table 4 row, the confusion matrix
// (counts and row-normalised %), recall by intensity bin, and the class abbreviations the paper uses.
import { DFEW_CLASSES, resolveClassName } from '../data/classes.js';
import type { Metrics } from '../metrics/metrics.js';

/**
 * A table of numbers: every column right-aligned ("n/a" and "-" too), except the first when it holds row names
 * (`rowNames`, the default).
 */
export function numberTable(header: string[], rows: string[][], rowNames = true): string[] {
  const cells = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) =>
    r
      .map((c, i) => (i === 0 && rowNames ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}

/** What every output of a run whose checkpoint was chosen on the test split must say. */
export const SELECTED_ON_TEST = 'selected on the test split: optimistic, as in DFER repos';

const PAPER_ABBREVIATIONS = ['Hap', 'Sad', 'Neu', 'Ang', 'Sur', 'Dis', 'Fea'];

/**
 * Short column names: the paper's Hap Sad Neu Ang Sur Dis Fea for DFEW's classes (in any of their spellings),
 * otherwise the name's first three letters, capitalised, lengthened until the names are distinct.
 */
export function abbreviateClasses(classes: readonly string[]): string[] {
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  const short = (c: string, n: number) => {
    const i = resolveClassName(c, DFEW_CLASSES);
    return i !== null && n === 3 ? PAPER_ABBREVIATIONS[i] : cap(c.trim().slice(0, n));
  };
  const out = classes.map((c) => short(c, 3));
  for (let n = 4; n <= 32; n++) {
    const dup = out.map((a, i) => out.indexOf(a) !== i || out.lastIndexOf(a) !== i);
    if (!dup.some(Boolean)) break;
    out.forEach((_, i) => {
      if (dup[i]) out[i] = short(classes[i], n);
    });
  }
  // Names that are equal however long the prefix: number them.
  return out.map((a, i) => (out.indexOf(a) !== i ? `${a}${i}` : a));
}

/** A fraction as a percentage with 2 decimals, no sign: 0.56514 -> "56.51" (the paper's tables). */
export const pct2 = (p: number) => (Number.isFinite(p) ? (100 * p).toFixed(2) : 'n/a');

/** Loss values: 4 decimals, or "nan"/"inf" spelled out. */
export const loss4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v).toLowerCase());

/** The paper's Table 4 row: the accuracy (recall) of each emotion, UAR and WAR, in %. */
export function table4(m: Metrics, classes: readonly string[], label?: string): string[] {
  const head = [...abbreviateClasses(classes), 'UAR', 'WAR'];
  const row = [...m.perClass.map(pct2), pct2(m.uar), pct2(m.war)];
  return label === undefined ? numberTable(head, [row], false) : numberTable(['', ...head], [[label, ...row]]);
}

/** The confusion matrix as two tables: counts (with the clips of each true class) and row-normalised %. */
export function confusionText(confusion: number[][], classes: readonly string[]): string[] {
  const abbr = abbreviateClasses(classes);
  const sums = confusion.map((r) => r.reduce((a, b) => a + b, 0));
  const counts = numberTable(
    ['true\\pred', ...abbr, 'clips'],
    confusion.map((r, i) => [abbr[i], ...r.map(String), String(sums[i])]),
  );
  const shares = numberTable(
    ['row %', ...abbr],
    confusion.map((r, i) => [abbr[i], ...r.map((c) => (sums[i] > 0 ? (100 * (c / sums[i])).toFixed(1) : '-'))]),
  );
  return [
    'confusion matrix (rows: true class, columns: predicted; counts)',
    ...counts,
    '',
    'row-normalised % (diagonal: recall)',
    ...shares,
  ];
}

/** Recall per expression-intensity bin (the synthetic benchmark knows each clip's intensity). */
export function intensityText(bins: NonNullable<Metrics['byIntensity']>): string[] {
  return [
    'recall by intensity',
    ...numberTable(
      ['intensity', 'clips', 'recall'],
      bins.map((b) => [`${b.lo.toFixed(2)}-${b.hi.toFixed(2)}`, String(b.clips), pct2(b.recall)]),
    ),
  ];
}

/** Seconds as 45s, 12m03s or 2h05m. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Learning rates: 0.0100, or 1.00e-4 when small. */
export const lrText = (lr: number) => (lr !== 0 && Math.abs(lr) < 1e-3 ? lr.toExponential(2) : lr.toFixed(4));
