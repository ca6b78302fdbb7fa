// `dfer eval`: a checkpoint (or a run directory: its selected checkpoint) on a split of a prepared set, with the
// confusion matrix plotted and results.json written; and the k-fold aggregation of finished runs.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '../atomic.js';
import { aggregateFolds, type CrossValResults, type FoldMetrics } from '../metrics/aggregate.js';
import { confusionSvg } from '../figures/plots.js';
import { writeSvgAndPng } from '../figures/svg.js';
import { compareMetricPairs, type VsBaseline } from '../metrics/paired.js';
import { useBackend, type BackendChoice } from '../backend.js';
import type { SamplingSpec } from '../data/sampling.js';
import { PreparedSet } from '../data/store.js';
import { CheckpointError, checkpointPaths, checkpointSampling, loadCheckpoint } from '../model/checkpoint.js';
import { listRunDirs, RunDir } from './run-dir.js';
import { trainOptionsFor, type ResolvedTrainSettings } from './options.js';
import { evaluateSplit } from './evaluate.js';
import type { Metrics } from '../metrics/metrics.js';
import { DferError } from '../errors.js';

export class EvalError extends DferError {}

export interface ResolvedCheckpoint {
  checkpoint: string;
  runDir?: string;
  /** From the run's configuration, when it is a dfer run. */
  run?: { data: string; fold: string; sampling: SamplingSpec; selectOn: 'val' | 'test' };
}

/** A run directory names its selected checkpoint (best, else last); anything else is a checkpoint path. */
export function resolveCheckpoint(path: string): ResolvedCheckpoint {
  const runOf = (dir: RunDir): ResolvedCheckpoint['run'] => {
    const config = dir.readConfig();
    const { train } = config;
    return { data: dir.dataPath(config), fold: train.fold, sampling: train.sampling, selectOn: train.selectOn };
  };
  if (existsSync(path) && statSync(path).isDirectory()) {
    const dir = new RunDir(path);
    if (!dir.isRun()) throw new EvalError(`${path}: not a run directory (no config.json) and not a checkpoint`);
    const run = runOf(dir);
    const which = dir.selectedCheckpoint();
    if (!which) throw new EvalError(`${path}: the run has no checkpoint yet (it stopped before its first save)`);
    return { checkpoint: which, runDir: path, run };
  }
  if (!existsSync(checkpointPaths(path).meta) && !existsSync(checkpointPaths(path).weights)) {
    throw new EvalError(
      `${path}: not found (expected a run directory, or a checkpoint: <name>.json beside <name>.safetensors)`,
    );
  }
  const dir = new RunDir(dirname(path));
  return dir.isRun() ? { checkpoint: path, runDir: dir.dir, run: runOf(dir) } : { checkpoint: path };
}

export interface EvalOptions {
  checkpoint: string; // or a run directory
  data?: string; // default: the run's data
  fold?: string; // default: the run's fold
  split: 'train' | 'test';
  backend: BackendChoice;
  batchSize: number;
  out?: string; // where results.json and confusion.svg/png go
  workers?: number;
  /** Score a run on clips it trained or selected on (refused otherwise); recorded in results.json. */
  allowOverlap?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface EvalRun {
  checkpoint: string;
  data: string;
  fold: string;
  split: string;
  classes: string[];
  metrics: Metrics;
  files: string[];
  selectedOn?: 'val' | 'test';
  backend: string;
  /** The test-mode sampling used: the run's, or what the bare checkpoint recorded (U segments x V frames). */
  sampling: SamplingSpec;
}

export async function evaluateCheckpoint(o: EvalOptions): Promise<EvalRun> {
  const r = resolveCheckpoint(o.checkpoint);
  const data = o.data ?? r.run?.data;
  const fold = o.fold ?? r.run?.fold;
  if (!data)
    throw new EvalError('--data is required when evaluating a bare checkpoint (a run directory knows its data)');
  if (!fold)
    throw new EvalError('--fold is required when evaluating a bare checkpoint (a run directory knows its fold)');
  const backend = await useBackend(o.backend);
  const set = PreparedSet.open(data);
  const ids = set.split(fold, o.split);
  if (!ids.length) throw new EvalError(`${data}: fold ${fold} has an empty ${o.split} split`);
  const overlap = r.run ? seenByRun(r.run, set, ids) : [];
  if (overlap.length && !o.allowOverlap) {
    throw new EvalError(
      `${r.runDir}: trained or selected on ${overlap.length} of the ${ids.length} clips of fold ${fold}'s ${o.split} split (e.g. ${overlap.slice(0, 3).join(', ')}), ` +
        `so its scores there would be inflated; evaluate it on its own fold (${r.run!.fold}), or pass --allow-overlap to score it anyway (recorded in results.json)`,
    );
  }
  const { model, momentum, meta } = loadCheckpoint(r.checkpoint);
  tf.dispose([...momentum.values()]);
  try {
    if (model.config.classes.join() !== set.manifest.classes.join()) {
      throw new CheckpointError(
        `${r.checkpoint}: trained on classes ${model.config.classes.join(',')} but ${data} has ${set.manifest.classes.join(',')}`,
      );
    }
    const sampling = r.run?.sampling ?? checkpointSampling(meta);
    const { metrics, clips } = await evaluateSplit(model, set, ids, {
      sampling,
      batchSize: o.batchSize,
      workers: o.workers,
      onProgress: o.onProgress,
    });
    const out = o.out ?? join(r.runDir ?? dirname(resolve(r.checkpoint)), `eval-fold${fold}-${o.split}`);
    mkdirSync(out, { recursive: true });
    const classes = set.manifest.classes;
    const plots = await writeSvgAndPng(
      confusionSvg(metrics.confusion, classes, {
        title: `fold ${fold} ${o.split}: UAR ${(100 * metrics.uar).toFixed(2)}%  WAR ${(100 * metrics.war).toFixed(2)}%`,
      }),
      join(out, 'confusion'),
    );
    const results = join(out, 'results.json');
    const run: EvalRun = {
      checkpoint: r.checkpoint,
      data,
      fold,
      split: o.split,
      classes,
      metrics,
      files: [results, plots.svg, plots.png],
      backend,
      sampling,
      ...(r.run ? { selectedOn: r.run.selectOn } : {}),
    };
    const leak = overlap.length ? { overlap: { clips: overlap.length, of: ids.length, allowed: true } } : {};
    writeFileAtomic(
      results,
      JSON.stringify(
        { ...run, ...leak, predictions: clips.map((c) => ({ id: c.id, label: c.label, predicted: c.predicted })) },
        null,
        1,
      ) + '\n',
    );
    return run;
  } finally {
    model.params.dispose();
  }
}

/**
 * The clips among `ids` (of `set`) that a run trained on or selected its checkpoint on: its fold's training split
 * (the validation part is carved from it), plus the test split when it selected on test. Clips are matched by where
 * they came from (their source in the original dataset), so a second preparation of the same data is caught too.
 */
function seenByRun(run: NonNullable<ResolvedCheckpoint['run']>, set: PreparedSet, ids: string[]): string[] {
  let runSet: PreparedSet;
  try {
    runSet = resolve(run.data) === resolve(set.dir) ? set : PreparedSet.open(run.data);
  } catch {
    return []; // the run's data is gone: nothing to compare with
  }
  const seen = new Set<string>();
  const splits: Array<'train' | 'test'> = run.selectOn === 'test' ? ['train', 'test'] : ['train'];
  for (const s of splits) {
    try {
      for (const id of runSet.split(run.fold, s)) seen.add(runSet.clip(id).source);
    } catch {
      /* the run's fold is not in that set */
    }
  }
  return ids.filter((id) => seen.has(set.clip(id).source));
}

/** Aggregate finished runs (each one fold) from their results.json: the DFER 5-fold protocol. */
export function aggregateRuns(paths: string[]): CrossValResults {
  // A folder that is not a run but holds runs (runs/dfew) stands for them.
  const runDirs = expandRunDirs(paths);
  const notRun = paths.find((p) => !new RunDir(p).isRun() && !listRunDirs(p).length);
  if (notRun !== undefined) throw new EvalError(`${notRun}: not a run directory (no config.json) and no runs in it`);
  if (!runDirs.length) throw new EvalError('no runs to aggregate');
  let classes: string[] | undefined;
  const rows: FoldMetrics[] = runDirs.map((dir) => {
    const run = new RunDir(dir);
    const r = run.readResults();
    const runClasses = run.readConfig().train.model.classes;
    if (classes && classes.join() !== runClasses.join())
      throw new EvalError(`${dir}: classes differ from the other runs`);
    classes = runClasses;
    return { fold: r.fold, metrics: r.metrics, run: dir, selectedOn: r.selectedOn };
  });
  const seen = new Map<string, string>();
  for (const r of rows) {
    const other = seen.get(String(r.fold));
    if (other) throw new EvalError(`${other} and ${r.run} are both fold ${r.fold}: give one run per fold`);
    seen.set(String(r.fold), r.run!);
  }
  return aggregateFolds(rows, classes!);
}

/** Run directories, a folder holding runs standing for them (runs/dfew). */
const expandRunDirs = (paths: readonly string[]) =>
  paths.flatMap((p) => (new RunDir(p).isRun() ? [p] : listRunDirs(p).map((r) => r.dir)));

/**
 * Runs against baseline runs, paired by fold and seed (each run's results.json and config.json): the paired
 * differences in UAR, WAR and recall by intensity, with bootstrap intervals and sign-flip p-values
 * (metrics/paired.ts).
 * `unpaired`: runs of either side without a partner (left out of the comparison).
 */
export function compareRunSets(
  runs: readonly string[],
  baseline: readonly string[],
  name = 'baseline',
): VsBaseline & { unpaired: string[] } {
  const keyed = (paths: readonly string[], flag: string) => {
    const out = new Map<string, { dir: string; metrics: Metrics }>();
    for (const dir of expandRunDirs(paths)) {
      const run = new RunDir(dir);
      const r = run.readResults();
      const key = `fold ${r.fold}, seed ${run.readConfig().train.seed}`;
      const other = out.get(key);
      if (other)
        throw new EvalError(`${flag}: ${other.dir} and ${dir} are both ${key}; give one run per fold and seed`);
      out.set(key, { dir, metrics: r.metrics });
    }
    return out;
  };
  const ours = keyed(runs, '--runs');
  const base = keyed(baseline, '--baseline');
  const pairs = [...ours].filter(([k]) => base.has(k)).map(([k, r]) => [r.metrics, base.get(k)!.metrics] as const);
  if (!pairs.length)
    throw new EvalError(
      `no run of --baseline has the fold and seed of a run of --runs (runs: ${[...ours.keys()].join('; ')}; baseline: ${[...base.keys()].join('; ')})`,
    );
  const unpaired = [...[...ours].filter(([k]) => !base.has(k)), ...[...base].filter(([k]) => !ours.has(k))].map(
    ([, r]) => r.dir,
  );
  return { ...compareMetricPairs(pairs, name), unpaired };
}

/** "1-5", "1,3,5" -> ["1", ...]. */
export function parseFolds(spec: string): string[] {
  const out: string[] = [];
  for (const part of spec.split(',')) {
    const m = part.trim().match(/^(\d+)(?:-(\d+))?$/);
    if (!m) throw new EvalError(`--folds ${spec}: expected a list like 1-5 or 1,3,5`);
    const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
    for (let k = Math.min(a, b); k <= Math.max(a, b); k++) out.push(String(k));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The workspace's runs: what `dfer train --fold k` wrote with the same settings

/** The fold-`fold` run of these settings (where dfer train --fold <fold> puts it); an EvalError saying how to get one. */
export function runOfFold(r: ResolvedTrainSettings, fold: string): string {
  const dir = trainOptionsFor(r, fold).out;
  if (new RunDir(dir).isRun()) return dir;
  const others = listRunDirs(dirname(dir)).filter((d) => {
    try {
      return String(d.readConfig().train.fold) === fold;
    } catch {
      return false;
    }
  });
  const hint = others.length
    ? `; other runs of fold ${fold} there: ${others.map((d) => d.dir).join(', ')} (pass one with --checkpoint)`
    : '';
  throw new EvalError(`no run of fold ${fold} at ${dir}${hint}; train it with: dfer train --fold ${fold}`);
}

/** The finished runs of these settings, one per fold of the set, and the folds without one. */
export function finishedRunsOfFolds(r: ResolvedTrainSettings): { runs: string[]; missing: string[] } {
  const runs: string[] = [];
  const missing: string[] = [];
  for (const fold of r.folds) {
    const dir = trainOptionsFor(r, fold).out;
    if (new RunDir(dir).hasResults()) runs.push(dir);
    else missing.push(fold);
  }
  if (!runs.length) {
    const where = dirname(trainOptionsFor(r, r.folds[0]).out);
    throw new EvalError(
      `no finished runs of ${r.settings.data} in ${where} (folds ${r.folds.join(', ')}); train them with: dfer train --folds ${r.folds.length > 1 ? `${r.folds[0]}-${r.folds[r.folds.length - 1]}` : r.folds[0]}`,
    );
  }
  return { runs, missing };
}
