// Views of `dfer eval`: one checkpoint on one split (the paper's Table 4 row, the confusion matrix, recall by
// intensity, the files written), and the k-fold cross-validation summary (per-fold rows, mean and sd).
import type { CrossValResults, FoldSummary } from '../metrics/aggregate.js';
import { pairedCells, vsBaselineJson, type VsBaseline } from '../metrics/paired.js';
import type { Metrics } from '../metrics/metrics.js';
import {
  abbreviateClasses,
  confusionText,
  intensityText,
  numberTable,
  pct2,
  SELECTED_ON_TEST,
  table4,
} from './metrics-text.js';
import type { View } from './output.js';

export type { CrossValResults } from '../metrics/aggregate.js';

export interface EvalResults {
  /** The checkpoint evaluated (a run directory resolves to its selected checkpoint). */
  checkpoint: string;
  /** The prepared set. */
  data: string;
  fold: number | string;
  split: string;
  classes: string[];
  metrics: Metrics;
  /** Files written (confusion.svg, confusion.png, results.json). */
  files: string[];
  /** Which split chose the checkpoint, when it came from a dfer run. */
  selectedOn?: 'val' | 'test';
  /** Test-mode sampling: U segments x V frames (T = U x V). */
  sampling?: { u: number; v: number };
}

const byName = (classes: readonly string[], values: readonly number[]) =>
  Object.fromEntries(classes.map((c, i) => [c, values[i]]));

/** The JSON form of eval results (`dfer eval --json`, and results.json): per_class and support keyed by class name. */
export function evalJson(r: EvalResults): Record<string, unknown> {
  const m = r.metrics;
  return {
    checkpoint: r.checkpoint,
    data: r.data,
    fold: r.fold,
    split: r.split,
    classes: r.classes,
    clips: m.support.reduce((a, b) => a + b, 0),
    uar: m.uar,
    war: m.war,
    per_class: byName(r.classes, m.perClass),
    support: byName(r.classes, m.support),
    confusion: m.confusion,
    ...(m.byIntensity ? { by_intensity: m.byIntensity } : {}),
    files: r.files,
    ...(r.selectedOn ? { selected_on: r.selectedOn } : {}),
    ...(r.sampling ? { sampling: { u: r.sampling.u, v: r.sampling.v } } : {}),
    ...(r.selectedOn === 'test' ? { warning: `checkpoint ${SELECTED_ON_TEST}` } : {}),
  };
}

export function evalView(r: EvalResults): View {
  const m = r.metrics;
  const clips = m.support.reduce((a, b) => a + b, 0);
  const text = [
    `${r.checkpoint} on ${r.data}, fold ${r.fold}, ${r.split} split: ${clips} clips${r.sampling ? `, U=${r.sampling.u} x V=${r.sampling.v} sampling` : ''}`,
  ];
  if (r.selectedOn === 'test') text.push(`warning: checkpoint ${SELECTED_ON_TEST}`);
  text.push(
    '',
    'accuracy of each emotion, UAR and WAR (%)',
    ...table4(m, r.classes),
    '',
    ...confusionText(m.confusion, r.classes),
  );
  if (m.byIntensity?.length) text.push('', ...intensityText(m.byIntensity));
  if (r.files.length) text.push('', 'files:', ...r.files.map((f) => `  ${f}`));
  return { json: evalJson(r), text };
}

const summaryJson = (classes: readonly string[], s: FoldSummary) => ({
  uar: s.uar,
  war: s.war,
  per_class: byName(classes, s.perClass),
});

export function crossValView(agg: CrossValResults): View {
  const { classes, folds } = agg;
  const abbr = abbreviateClasses(classes);
  const onTest = folds.filter((f) => f.selectedOn === 'test').map((f) => String(f.fold));
  const row = (label: string, s: FoldSummary) => [label, ...s.perClass.map(pct2), pct2(s.uar), pct2(s.war)];
  const k = folds.length;
  const text = [`${k}-fold cross-validation: accuracy of each emotion, UAR and WAR (%) on each fold's test split`];
  if (onTest.length)
    text.push(
      `warning: the checkpoint of fold${onTest.length > 1 ? 's' : ''} ${onTest.join(', ')} was ${SELECTED_ON_TEST}`,
    );
  text.push(
    '',
    ...numberTable(
      ['fold', ...abbr, 'UAR', 'WAR'],
      [...folds.map((f) => row(String(f.fold), f.metrics)), row('mean', agg.mean), row('sd', agg.sd)],
    ),
    '',
    `UAR ${pct2(agg.mean.uar)} ± ${pct2(agg.sd.uar)}, WAR ${pct2(agg.mean.war)} ± ${pct2(agg.sd.war)} (mean ± sample sd over ${k} fold${k === 1 ? '' : 's'})`,
  );
  const runs = folds.filter((f) => f.run);
  if (runs.length) text.push('', 'runs:', ...runs.map((f) => `  fold ${f.fold}: ${f.run}`));
  return {
    json: {
      classes,
      folds: folds.map((f) => ({
        fold: f.fold,
        ...(f.run ? { run: f.run } : {}),
        ...(f.selectedOn ? { selected_on: f.selectedOn } : {}),
        ...summaryJson(classes, f.metrics),
        support: byName(classes, f.metrics.support),
        confusion: f.metrics.confusion,
      })),
      mean: summaryJson(classes, agg.mean),
      sd: summaryJson(classes, agg.sd),
      ...(onTest.length ? { warning: `the checkpoint of fold(s) ${onTest.join(', ')} was ${SELECTED_ON_TEST}` } : {}),
    },
    text,
  };
}

/** `dfer eval --runs ... --baseline ...`: the cross-validation of the runs, then their paired differences. */
export function vsBaselineView(cv: View, v: VsBaseline & { unpaired: string[] }): View {
  const row = (label: string, d: VsBaseline['uar']) => [label, ...pairedCells(d)];
  const rows = [
    row('UAR', v.uar),
    row('WAR', v.war),
    ...(v.byIntensity ?? []).map((b) => row(`recall I ${b.lo.toFixed(2)}-${b.hi.toFixed(2)}`, b)),
  ];
  const text = [
    ...cv.text,
    '',
    `against the baseline, paired by fold and seed (${v.uar.pairs} pair${v.uar.pairs === 1 ? '' : 's'}): mean difference in points, 95% bootstrap interval over the pairs, exact sign-flip p`,
    ...numberTable(['', 'difference [95% CI]', 'p'], rows),
    ...(v.unpaired.length ? [`without a partner (left out): ${v.unpaired.join(', ')}`] : []),
  ];
  return { json: { ...(cv.json as object), vs_baseline: vsBaselineJson(v), unpaired: v.unpaired }, text };
}

/** What dfer train --executor slurm reports once it stops following the array. */
export interface SlurmFoldsSummary {
  /** The folds that finished, as a cross-validation row (absent when none did). */
  crossVal?: CrossValResults;
  submitted?: { job: string; runs: string[]; script: string };
  failed: string[];
  unfinished: string[];
  /** Where the task logs are. */
  logs: string;
}

export function slurmFoldsView(s: SlurmFoldsSummary): View {
  const cv = s.crossVal && crossValView(s.crossVal);
  const notes = [
    ...(s.submitted
      ? [`submitted Slurm job array ${s.submitted.job}: ${s.submitted.runs.length} task(s) (${s.submitted.script})`]
      : []),
    ...(s.failed.length ? [`failed: ${s.failed.join(', ')} (task logs in ${s.logs}; --retry submits them again)`] : []),
    ...(s.unfinished.length
      ? [`not finished: ${s.unfinished.join(', ')}; the same command (or --collect) aggregates them once finished`]
      : []),
  ];
  return {
    json: {
      ...((cv?.json as object) ?? {}),
      slurm: { ...(s.submitted ? { job: s.submitted.job } : {}), failed: s.failed, in_flight: s.unfinished },
    },
    text: [...(cv?.text ?? []), ...(notes.length && cv ? [''] : []), ...notes],
  };
}
