// What a training reporter remembers of the event stream: a pure reducer from TrainEvent to TrainState. The Ink
// dashboard is a function of this state; the plain reporter formats lines from it. Nothing here draws.
import type { LossParts, TrainEvent } from '../train/events.js';
import type { Metrics } from '../metrics/metrics.js';

export type RunStart = Extract<TrainEvent, { type: 'run-start' }>;
export type EpochEnd = Extract<TrainEvent, { type: 'epoch-end' }>;

/** A finished thing that stays on screen (above the live area) and in the log. */
export type LogItem =
  | { key: number; kind: 'run'; run: RunStart }
  | { key: number; kind: 'epoch'; epoch: EpochEnd; selectOn: 'val' | 'test' }
  | { key: number; kind: 'checkpoint'; path: string; what: 'last' | 'best' | 'step' }
  | { key: number; kind: 'test'; split: string; metrics: Metrics; checkpoint: string }
  | { key: number; kind: 'notice'; text: string };

type LogItemData = LogItem extends infer T ? (T extends unknown ? Omit<T, 'key'> : never) : never;

/**
 * A loss trend at bounded memory: means of buckets of consecutive steps; when `cap` buckets are full, neighbours are
 * merged pairwise and the bucket size doubles, so the trend always spans the whole run.
 */
export interface Trend {
  values: number[];
  bucket: number; // steps per value
  sum: number; // of the bucket being filled
  n: number;
}

export const emptyTrend = (): Trend => ({ values: [], bucket: 1, sum: 0, n: 0 });

export function pushTrend(t: Trend, v: number, cap = 128): Trend {
  if (!Number.isFinite(v)) return t;
  const sum = t.sum + v;
  const n = t.n + 1;
  if (n < t.bucket) return { ...t, sum, n };
  let values = [...t.values, sum / n];
  let bucket = t.bucket;
  if (values.length >= cap) {
    const merged: number[] = [];
    for (let i = 0; i < values.length; i += 2)
      merged.push(i + 1 < values.length ? (values[i] + values[i + 1]) / 2 : values[i]);
    values = merged;
    bucket *= 2;
  }
  return { values, bucket, sum: 0, n: 0 };
}

/** The trend's values, the partial bucket included. */
export const trendValues = (t: Trend) => (t.n ? [...t.values, t.sum / t.n] : t.values);

const SPARKS = '▁▂▃▄▅▆▇█';

/** Values as a sparkline of `width` unicode blocks (bucket means when there are more values than columns). */
export function sparkline(values: readonly number[], width: number): string {
  const v = values.filter(Number.isFinite);
  if (v.length === 0 || width <= 0) return '';
  let cols: number[] = v;
  if (v.length > width) {
    cols = [];
    for (let i = 0; i < width; i++) {
      const a = Math.floor((i * v.length) / width);
      const b = Math.max(a + 1, Math.floor(((i + 1) * v.length) / width));
      const part = v.slice(a, b);
      cols.push(part.reduce((s, x) => s + x, 0) / part.length);
    }
  }
  const lo = Math.min(...cols);
  const hi = Math.max(...cols);
  return cols.map((x) => SPARKS[hi > lo ? Math.round(((x - lo) / (hi - lo)) * (SPARKS.length - 1)) : 3]).join('');
}

export interface TrainState {
  run?: RunStart;
  classes: string[];
  selectOn: 'val' | 'test';
  phase: 'starting' | 'train' | 'eval' | 'done';
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number;
  globalStep: number;
  lr: number;
  clipsPerSecond: number;
  elapsed: number;
  etaSeconds: number;
  /** The loss of the last step, and the running mean of this epoch's steps. */
  lastLoss?: LossParts;
  running: { sum: LossParts; n: number };
  trend: Trend;
  evalProgress?: { split: string; done: number; total: number };
  /** Every finished epoch in this process (a resumed run starts over here). */
  epochsDone: EpochEnd[];
  /** The latest validation, with the epoch it was made after. */
  lastVal?: { epoch: number; metrics: Metrics };
  best?: { epoch: number; uar: number; war: number };
  checkpoints: Partial<Record<'last' | 'best' | 'step', string>>;
  test?: { split: string; metrics: Metrics; checkpoint: string };
  end?: { runDir: string; interrupted: boolean; summary: Record<string, unknown> };
  log: LogItem[];
}

/** What Ctrl-C is answered with, as soon as the step in flight ends (the run then saves and stops). */
export const STOPPING =
  'Ctrl-C: stopping after this step with a resumable checkpoint; Ctrl-C again to abort (the last checkpoint stays intact)';

const ZERO: LossParts = { total: 0, ce: 0, ial: 0, aux: 0 };

export const initialTrainState = (): TrainState => ({
  classes: [],
  selectOn: 'val',
  phase: 'starting',
  epoch: 0,
  epochs: 0,
  step: 0,
  stepsPerEpoch: 0,
  globalStep: 0,
  lr: 0,
  clipsPerSecond: 0,
  elapsed: 0,
  etaSeconds: NaN,
  running: { sum: ZERO, n: 0 },
  trend: emptyTrend(),
  epochsDone: [],
  checkpoints: {},
  log: [],
});

const addLoss = (a: LossParts, b: LossParts): LossParts => ({
  total: a.total + b.total,
  ce: a.ce + b.ce,
  ial: a.ial + b.ial,
  aux: a.aux + b.aux,
});

/** The class names for an n-class matrix: the run's, or indices when the run-start event was missed. */
export const classNames = (s: TrainState, n: number): string[] =>
  s.classes.length === n ? s.classes : Array.from({ length: n }, (_, i) => String(i));

/** The running mean of this epoch's losses (the last step's when none). */
export function runningLoss(s: TrainState): LossParts | undefined {
  const { sum, n } = s.running;
  if (!n) return s.lastLoss;
  return { total: sum.total / n, ce: sum.ce / n, ial: sum.ial / n, aux: sum.aux / n };
}

/** Fraction of the whole run done (epochs and the current epoch's steps). */
export function runFraction(s: TrainState): number {
  if (!s.epochs) return 0;
  const inEpoch = s.stepsPerEpoch ? Math.min(1, s.step / s.stepsPerEpoch) : 0;
  const done = s.phase === 'done' ? s.epochs : Math.max(0, s.epoch - 1) + inEpoch;
  return Math.min(1, done / s.epochs);
}

export function reduceTrain(s: TrainState, e: TrainEvent): TrainState {
  const log = (item: LogItemData): LogItem[] => [...s.log, { ...item, key: s.log.length } as LogItem];
  switch (e.type) {
    case 'run-start':
      return {
        ...s,
        run: e,
        classes: e.classes,
        selectOn: e.selectOn,
        epochs: e.epochs,
        stepsPerEpoch: e.stepsPerEpoch,
        epoch: e.resumedFrom?.epoch ?? 0,
        step: e.resumedFrom?.step ?? 0,
        log: log({ kind: 'run', run: e }),
      };
    case 'epoch-start':
      return {
        ...s,
        phase: 'train',
        epoch: e.epoch,
        epochs: e.epochs,
        lr: e.lr,
        step: 0,
        running: { sum: ZERO, n: 0 },
        evalProgress: undefined,
      };
    case 'step':
      return {
        ...s,
        phase: 'train',
        epoch: e.epoch,
        step: e.step,
        stepsPerEpoch: e.stepsPerEpoch,
        globalStep: e.globalStep,
        lr: e.lr,
        clipsPerSecond: e.clipsPerSecond,
        elapsed: e.elapsed,
        etaSeconds: e.etaSeconds,
        lastLoss: e.loss,
        running: { sum: addLoss(s.running.sum, e.loss), n: s.running.n + 1 },
        trend: pushTrend(s.trend, e.loss.total),
      };
    case 'eval-progress':
      return { ...s, phase: 'eval', evalProgress: { split: e.split, done: e.done, total: e.total } };
    case 'epoch-end':
      return {
        ...s,
        phase: 'train',
        epoch: e.epoch,
        step: s.stepsPerEpoch || s.step,
        epochsDone: [...s.epochsDone, e],
        lastVal: e.val ? { epoch: e.epoch, metrics: e.val } : s.lastVal,
        best: e.best && e.val ? { epoch: e.epoch, uar: e.val.uar, war: e.val.war } : s.best,
        evalProgress: undefined,
        log: log({ kind: 'epoch', epoch: e, selectOn: s.selectOn }),
      };
    case 'checkpoint':
      return {
        ...s,
        checkpoints: { ...s.checkpoints, [e.kind]: e.path },
        log: e.kind === 'last' ? s.log : log({ kind: 'checkpoint', path: e.path, what: e.kind }),
      };
    case 'test':
      return {
        ...s,
        evalProgress: undefined,
        test: { split: e.split, metrics: e.metrics, checkpoint: e.checkpoint },
        log: log({ kind: 'test', split: e.split, metrics: e.metrics, checkpoint: e.checkpoint }),
      };
    case 'stopping':
      return { ...s, log: log({ kind: 'notice', text: STOPPING }) };
    case 'run-end':
      return {
        ...s,
        phase: 'done',
        evalProgress: undefined,
        end: { runDir: e.runDir, interrupted: e.interrupted, summary: e.summary },
      };
  }
}
