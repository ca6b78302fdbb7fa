// Clip features and their t-SNE maps (`dfer tsne`, the paper's Fig. 4): the clip feature of every clip of a split
// (the mean temporal token before the classifier, test-mode sampling as evaluation uses), embedded in 2-D, and the
// files: <out>.png/.svg (scatter coloured by class, and by intensity when the data knows it; with a baseline, its
// map beside ours on the same clips) and <out>.csv (the coordinates).
import { mkdirSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '../atomic.js';
import { useBackend, type BackendChoice } from '../backend.js';
import { deriveShapes } from '../config.js';
import type { SamplingSpec } from '../data/sampling.js';
import { PreparedSet } from '../data/store.js';
import { CheckpointError, checkpointSampling, loadCheckpoint } from '../model/checkpoint.js';
import type { Model } from '../model/network.js';
import { Rng } from '../random.js';
import { EvalError, resolveCheckpoint } from '../train/eval-run.js';
import { argmaxRows, forwardSplit } from '../train/evaluate.js';
import { writeSvgAndPng } from '../figures/svg.js';
import { classColour, MISSING_COLOUR, scatterSvg, viridis, type ScatterRow } from '../figures/scatter.js';
import { knnAccuracy, tsne, TSNE_DEFAULTS, type TsneMethod, type TsneProgress } from './tsne.js';

/** The default name of a t-SNE map's files in a run directory (tsne-fold<k>-<split>.png, .svg, .csv); dfer report
 * looks for it. */
export const tsneName = (fold: string, split: string) => `tsne-fold${fold}-${split}`;

export interface SplitFeatures {
  ids: string[];
  labels: Int32Array;
  predicted: Int32Array;
  /** (N, dim) row-major. */
  features: Float32Array;
  dim: number;
}

/** The clip features (and predictions) of `ids`, in that order: test-mode sampling, no augmentation, eval-mode BN. */
export async function extractFeatures(
  model: Model,
  set: PreparedSet,
  ids: string[],
  o: {
    sampling: SamplingSpec;
    batchSize: number;
    workers?: number;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<SplitFeatures> {
  const dim = deriveShapes(model.config).temporalDim;
  const out = await forwardSplit(model, set, ids, { ...o, features: true });
  const predicted = argmaxRows(out.probabilities, model.config.numClasses);
  return { ids: out.ids, labels: out.labels, predicted, features: out.features!, dim };
}

export interface TsneRunOptions {
  /** Checkpoint or run directory ("ours"). */
  checkpoint: string;
  /** A baseline checkpoint or run directory, drawn beside ours on the same clips. */
  compare?: string;
  /** Default: the run's data and fold. */
  data?: string;
  fold?: string;
  split: 'train' | 'test';
  /** <out>.png, <out>.svg, <out>.csv (a .png/.svg/.csv extension is dropped). Default: <run>/tsne-fold<k>-<split>. */
  out?: string;
  seed: number;
  perplexity: number;
  iterations?: number;
  method?: TsneMethod | 'auto';
  /** Embed at most this many clips (a seeded random subset of the split beyond it). */
  maxPoints: number;
  batchSize: number;
  workers?: number;
  backend: BackendChoice;
  /** Progress of each stage: 'features <name>' (clips), 'pca <name>', 'affinities <name>', 'embed <name>' (iterations). */
  onProgress?: (stage: string, done: number, total: number, unit: string, detail?: string) => void;
}

export interface TsneMap {
  name: string; // 'ours' or 'baseline'
  checkpoint: string;
  /** (N, 2) row-major. */
  coords: Float64Array;
  method: TsneMethod;
  perplexity: number;
  iterations: number;
  kl: number;
  /** Leave-one-out 10-NN accuracy of the true classes in the map. */
  knnAccuracy: number;
  /** Accuracy of the model's own predictions on these clips. */
  accuracy: number;
  seconds: number;
}

export interface TsneRun {
  data: string;
  fold: string;
  split: string;
  classes: string[];
  /** Clips of the split, and the ones embedded (all, or a seeded subset of maxPoints). */
  splitClips: number;
  ids: string[];
  labels: number[];
  /** Per clip, when the data knows it (the synthetic benchmark). */
  intensity: (number | undefined)[];
  maps: TsneMap[]; // baseline first when comparing, as in Fig. 4
  seed: number;
  backend: string;
  files: string[];
}

export class TsneError extends EvalError {}

/** Out path without the figure's extension. */
export function figureBase(out: string): string {
  const ext = extname(out).toLowerCase();
  return ['.png', '.svg', '.csv'].includes(ext) ? join(dirname(out), basename(out, extname(out))) : out;
}

/** The t-SNE maps of one checkpoint (and a baseline) on a split, and their files. */
export async function tsneRun(o: TsneRunOptions): Promise<TsneRun> {
  const ours = resolveCheckpoint(o.checkpoint);
  const base = o.compare ? resolveCheckpoint(o.compare) : undefined;
  const data = o.data ?? ours.run?.data ?? base?.run?.data;
  const fold = o.fold ?? ours.run?.fold ?? base?.run?.fold;
  if (!data) throw new TsneError('--data is required with a bare checkpoint (a run directory knows its data)');
  if (!fold) throw new TsneError('--fold is required with a bare checkpoint (a run directory knows its fold)');
  if (!(o.perplexity > 0)) throw new TsneError(`--perplexity ${o.perplexity}: must be positive`);
  const backend = await useBackend(o.backend);
  const set = PreparedSet.open(data);
  const classes = set.manifest.classes;
  let ids = set.split(fold, o.split);
  if (ids.length < 4)
    throw new TsneError(
      `${data}: fold ${fold} has ${ids.length} clips in its ${o.split} split; t-SNE needs at least 4`,
    );
  const splitClips = ids.length;
  if (ids.length > o.maxPoints) {
    const keep = new Set(new Rng(o.seed).shuffle([...ids]).slice(0, o.maxPoints));
    ids = ids.filter((id) => keep.has(id));
  }
  const progress = o.onProgress ?? (() => {});

  const models = [...(base ? [{ name: 'baseline', r: base }] : []), { name: 'ours', r: ours }];
  const maps: TsneMap[] = [];
  let labels: number[] = [];
  for (const { name, r } of models) {
    const { model, momentum, meta } = loadCheckpoint(r.checkpoint);
    tf.dispose([...momentum.values()]);
    let feats: SplitFeatures;
    try {
      if (model.config.classes.join() !== classes.join()) {
        throw new CheckpointError(
          `${r.checkpoint}: trained on classes ${model.config.classes.join(',')} but ${data} has ${classes.join(',')}`,
        );
      }
      const sampling = r.run?.sampling ?? checkpointSampling(meta);
      progress(`features ${name}`, 0, ids.length, 'clips');
      feats = await extractFeatures(model, set, ids, {
        sampling,
        batchSize: o.batchSize,
        workers: o.workers,
        onProgress: (done, total) => progress(`features ${name}`, done, total, 'clips'),
      });
    } finally {
      model.params.dispose();
    }
    labels = Array.from(feats.labels);
    const onProgress = (p: TsneProgress) => {
      const stage = p.stage === 'optimise' ? `embed ${name}` : `${p.stage} ${name}`;
      progress(
        stage,
        p.done,
        p.total,
        p.stage === 'optimise' ? 'iterations' : p.stage === 'pca' ? 'passes' : 'clips',
        p.kl !== undefined ? `KL ${p.kl.toFixed(3)}` : undefined,
      );
    };
    const t = await tsne(feats.features, ids.length, feats.dim, {
      perplexity: o.perplexity,
      seed: o.seed,
      iterations: o.iterations,
      method: o.method,
      onProgress,
    });
    const correct = feats.predicted.reduce((a, p, i) => a + (p === feats.labels[i] ? 1 : 0), 0);
    maps.push({
      name,
      checkpoint: r.checkpoint,
      coords: t.coords,
      method: t.method,
      perplexity: t.perplexity,
      iterations: t.iterations,
      kl: t.kl,
      knnAccuracy: knnAccuracy(t.coords, feats.labels, 10),
      accuracy: correct / ids.length,
      seconds: t.seconds,
    });
  }
  const intensity = ids.map((id) => set.clip(id).intensity);

  const runDir = ours.runDir;
  const outBase = figureBase(o.out ?? (runDir ? join(runDir, tsneName(fold, o.split)) : tsneName(fold, o.split)));
  mkdirSync(dirname(outBase) || '.', { recursive: true });
  const run: TsneRun = {
    data,
    fold,
    split: o.split,
    classes,
    splitClips,
    ids,
    labels,
    intensity,
    maps,
    seed: o.seed,
    backend,
    files: [],
  };
  const plot = await writeSvgAndPng(tsneSvg(run), outBase, { scale: 2 });
  const csv = `${outBase}.csv`;
  writeFileAtomic(csv, tsneCsv(run));
  run.files = [plot.png, plot.svg, csv];
  return run;
}

const pct1 = (v: number) => `${(100 * v).toFixed(1)}%`;

/** The figure: a row coloured by class, and a row coloured by intensity when any clip has one; a column per map. */
export function tsneSvg(run: TsneRun): string {
  const title = (m: TsneMap) => (run.maps.length > 1 ? m.name : `fold ${run.fold} ${run.split}`);
  const subtitle = (m: TsneMap) =>
    `10-NN accuracy in the map ${pct1(m.knnAccuracy)} · model accuracy ${pct1(m.accuracy)}`;
  const points = (m: TsneMap, colour: (i: number) => string) =>
    run.ids.map((_, i) => ({ x: m.coords[2 * i], y: m.coords[2 * i + 1], colour: colour(i) }));
  const rows: ScatterRow[] = [
    {
      panels: run.maps.map((m) => ({
        title: title(m),
        subtitle: subtitle(m),
        points: points(m, (i) => classColour(run.labels[i])),
      })),
      legend: run.classes.map((c, k) => ({ label: c, colour: classColour(k) })),
    },
  ];
  const known = run.intensity.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (known.length) {
    const lo = Math.min(...known);
    const hi = Math.max(...known);
    const t = (v: number) => (hi > lo ? (v - lo) / (hi - lo) : 0.5);
    rows.push({
      panels: run.maps.map((m) => ({
        title: `${title(m)}: by intensity`,
        points: points(m, (i) => (run.intensity[i] === undefined ? MISSING_COLOUR : viridis(t(run.intensity[i]!)))),
      })),
      colourBar: {
        label: 'intensity',
        lo,
        hi,
        colour: viridis,
        ...(known.length < run.ids.length ? { missing: 'unknown' } : {}),
      },
    });
  }
  const clips =
    run.ids.length < run.splitClips ? `${run.ids.length} of ${run.splitClips} clips` : `${run.ids.length} clips`;
  return scatterSvg(rows, { title: `t-SNE of clip features: fold ${run.fold} ${run.split}, ${clips}` });
}

const csvField = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** id, class, label index, intensity, then x,y of each map (baseline_x, baseline_y before x, y when comparing). */
export function tsneCsv(run: TsneRun): string {
  const coordHeads = run.maps.flatMap((m) => (m.name === 'ours' ? ['x', 'y'] : [`${m.name}_x`, `${m.name}_y`]));
  const lines = [['id', 'class', 'label', 'intensity', ...coordHeads].join(',')];
  run.ids.forEach((id, i) => {
    const v = run.intensity[i];
    const coords = run.maps.flatMap((m) => [m.coords[2 * i], m.coords[2 * i + 1]].map((c) => c.toPrecision(8)));
    lines.push(
      [
        csvField(id),
        csvField(run.classes[run.labels[i]]),
        String(run.labels[i]),
        v === undefined ? '' : String(v),
        ...coords,
      ].join(','),
    );
  });
  return lines.join('\n') + '\n';
}

export { TSNE_DEFAULTS };
