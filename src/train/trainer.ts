// The research loop: train on a fold, select a checkpoint on a held-out validation slice (or, on request, on the test
// split as DFER repos do), evaluate the selected weights on the test split once, and leave a run directory:
//   config.json    the resolved configuration, backend, versions, data fingerprint
//   metrics.jsonl  one line per step and per epoch
//   last.*, best.* checkpoints (weights, BN statistics, momentum, loop state), written atomically
//   summary.json   the final numbers; results.json the test metrics; curves/confusion plots
// Resume is exact: weights, momentum, schedule position, epoch/step and the data order (a pure function of the seed,
// the epoch and the position in it) all come back, so a killed and resumed run ends where an uninterrupted one does.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { arch, cpus, hostname, platform } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { confusionSvg } from '../figures/plots.js';
import { writeSvgAndPng } from '../figures/svg.js';
import { backendDevice, useBackend, type BackendChoice } from '../backend.js';
import { lockDirectory, type DirLock } from '../lock.js';
import { diffConfigs, type ModelConfig } from '../config.js';
import { OFFICIAL_AUGMENT } from '../data/augment.js';
import { batchCount, loadBatches } from '../data/loader.js';
import type { SamplingSpec } from '../data/sampling.js';
import { PreparedSet } from '../data/store.js';
import { RunDir, type MetricsLine, type RunConfig } from './run-dir.js';
import { checkpointPaths, loadCheckpoint, saveCheckpoint } from '../model/checkpoint.js';
import type { LossOptions } from '../model/losses.js';
import { createModel, type Model } from '../model/network.js';
import { mixSeed, Rng } from '../random.js';
import { VERSION } from '../version.js';
import { evaluateSplit } from './evaluate.js';
import type { Metrics } from '../metrics/metrics.js';
import type { LossParts, RunProtocol, TrainEvent } from './events.js';
import { learningRate, Sgd, type ScheduleConfig, type SgdConfig } from './optim.js';
import { writeRunCurves } from './curves.js';
import { trainStep } from './step.js';
import { batchAdvice, GpuBufferTooLargeError } from '../webgpu/device.js';
import { DferError } from '../errors.js';

export interface TrainOptions {
  data: string; // prepared set
  fold: string;
  model: ModelConfig;
  epochs: number;
  batchSize: number;
  optimizer: SgdConfig;
  schedule: ScheduleConfig;
  loss: LossOptions;
  sampling: SamplingSpec;
  augment: boolean;
  seed: number;
  backend: BackendChoice;
  out: string; // run directory
  /** Share of each class of the training fold held out for checkpoint selection (stratified, seeded). */
  valFraction: number;
  /** 'val' (honest) or 'test' (the DFER repos' best-on-test habit; every output says so). */
  selectOn: 'val' | 'test';
  selectMetric: 'uar' | 'war';
  /** Also save the last checkpoint every N training steps (0: at epoch ends only). */
  saveEvery: number;
  evalBatchSize: number;
  workers?: number;
  /** Provenance of the dataset-dependent defaults (protocols.ts): recorded in config.json, not part of the run's identity. */
  protocol?: RunProtocol;
}

export interface LoopState {
  epoch: number; // epochs completed
  step: number; // batches completed in the current epoch
  globalStep: number;
  bestEpoch: number; // 1-based epoch of the selected checkpoint, 0 before any selection
  bestScore: number;
  /** Sums of the loss parts over the current epoch's steps so far (so a resumed epoch reports the same mean). */
  epochLoss: LossParts & { steps: number };
  history: { epoch: number; val?: { uar: number; war: number }; trainLoss: LossParts }[];
}

export interface TrainSummary {
  runDir: string;
  interrupted: boolean;
  selectedOn: 'val' | 'test';
  selectMetric: 'uar' | 'war';
  bestEpoch: number;
  epochs: number;
  steps: number;
  checkpoint: string; // the selected checkpoint
  test?: Metrics;
  val?: Metrics;
  dataFingerprint: string;
  backend: string;
  files?: string[];
}

export class TrainError extends DferError {}

/** Stratified hold-out: `fraction` of each class (rounded, seeded), the rest to train. */
export function stratifiedSplit(
  ids: string[],
  labelOf: (id: string) => number,
  fraction: number,
  seed: number,
): { train: string[]; val: string[] } {
  if (fraction <= 0) return { train: [...ids], val: [] };
  const byClass = new Map<number, string[]>();
  for (const id of ids) byClass.set(labelOf(id), [...(byClass.get(labelOf(id)) ?? []), id]);
  const rng = new Rng(mixSeed(seed, 0x7a1));
  const val = new Set<string>();
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = rng.shuffle([...byClass.get(label)!]);
    const take = members.length >= 2 ? Math.max(1, Math.round(members.length * fraction)) : 0;
    members.slice(0, take).forEach((id) => val.add(id));
  }
  return { train: ids.filter((id) => !val.has(id)), val: ids.filter((id) => val.has(id)) };
}

/** A tensor too large for the GPU's bindings becomes advice on the batch size; other errors pass through. */
function tooLargeForGpu(err: unknown, flag: string, batch: number): unknown {
  return err instanceof GpuBufferTooLargeError ? new TrainError(batchAdvice(err, flag, batch)) : err;
}

function versions(backend: string) {
  return {
    dfer: VERSION,
    tfjs: tf.version_core,
    node: process.version,
    backend,
    device: backendDevice(),
    machine: machine(),
  };
}

/**
 * The machine a run trained on: the same seed gives identical losses on one machine, not across CPU kernels, so a
 * result is only comparable, pair by pair, with results of the same machine.
 */
function machine() {
  const cpu = cpus();
  return {
    host: hostname(),
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    platform: `${platform()} ${arch()}`,
  };
}

/** The part of the options that must not change when a run is resumed. */
function identity(o: TrainOptions) {
  const { backend: _b, out: _o, workers: _w, epochs: _e, protocol: _p, ...rest } = o;
  return { ...rest, data: resolve(o.data) };
}

/** Train (or resume: the run directory already holds config.json and a last checkpoint). The run directory is locked
 * for the whole run: a second `dfer train` on it is refused at once (src/lock.ts). */
export async function train(
  o: TrainOptions,
  emit: (e: TrainEvent) => void = () => {},
  signal?: AbortSignal,
): Promise<TrainSummary> {
  const created = !existsSync(o.out);
  mkdirSync(o.out, { recursive: true });
  const lock = await lockDirectory(o.out);
  // Ctrl-C is acknowledged at once; the loop stops after the current step.
  const onAbort = () => emit({ type: 'stopping', reason: 'interrupt' });
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await trainInLockedDir(o, emit, signal, lock);
  } catch (err) {
    // Nothing half-written: a run that failed before writing anything leaves no directory behind.
    lock.release();
    if (created && readdirSync(o.out).length === 0) rmSync(o.out, { recursive: true, force: true });
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    lock.release();
  }
}

/** The fold's splits of the prepared set: training, the held-out selection slice (or the test split), the test split. */
function openFold(o: TrainOptions) {
  const set = PreparedSet.open(o.data);
  const classes = set.manifest.classes;
  if (classes.length !== o.model.numClasses) {
    throw new TrainError(
      `${o.data}: the prepared set has ${classes.length} classes but the model ${o.model.numClasses}`,
    );
  }
  const fold = set.manifest.folds[o.fold];
  if (!fold)
    throw new TrainError(`${o.data}: no fold ${o.fold} (folds: ${Object.keys(set.manifest.folds).join(', ')})`);
  const trainIds = set.split(o.fold, 'train');
  const testIds = set.split(o.fold, 'test');
  if (!trainIds.length) throw new TrainError(`${o.data}: fold ${o.fold} has an empty training split`);
  if (!testIds.length) throw new TrainError(`${o.data}: fold ${o.fold} has an empty test split`);
  const split =
    o.selectOn === 'val'
      ? stratifiedSplit(trainIds, (id) => set.clip(id).label, o.valFraction, o.seed)
      : { train: trainIds, val: [] };
  if (split.train.length < o.batchSize) {
    throw new TrainError(
      `fold ${o.fold}: ${split.train.length} training clips, fewer than one batch of ${o.batchSize}; lower --batch`,
    );
  }
  return { set, classes, model0: { ...o.model, classes }, train: split.train, val: split.val, test: testIds };
}

const zeroLoss = () => ({ total: 0, ce: 0, ial: 0, aux: 0, steps: 0 });

/**
 * A new run (config.json, a fresh model) or the resumption of the run in the directory, which must have the same
 * configuration and data: its weights, momentum and loop state come back from the last checkpoint.
 */
function startOrResume(o: TrainOptions, run: RunDir, set: PreparedSet, model0: ModelConfig, backend: string) {
  const resolved = { ...identity(o), model: model0, epochs: o.epochs };
  const sgd = new Sgd(o.optimizer);
  if (run.isRun() && run.hasCheckpoint('last')) {
    const before = run.readConfig();
    // The data is matched by its fingerprint (below), not its path: a workspace may be moved or copied as a whole.
    const diff = diffConfigs(before.train, resolved).filter(
      (d) => !d.startsWith('epochs:') && !d.startsWith('schedule.epochs:') && !d.startsWith('data:'),
    );
    if (diff.length)
      throw new TrainError(
        `${o.out}: holds a run with another configuration (${diff.slice(0, 3).join('; ')}); use another --out`,
      );
    if (before.dataFingerprint !== set.manifest.fingerprint)
      throw new TrainError(
        `${o.out}: was trained on other data (fingerprint ${before.dataFingerprint}, now ${set.manifest.fingerprint})`,
      );
    const ck = loadCheckpoint(run.last, model0);
    sgd.restore(ck.momentum);
    tf.dispose([...ck.momentum.values()]);
    const state = ck.meta.state as unknown as LoopState;
    // More epochs for a run that had finished: its test result belongs to the shorter run and goes now, so that a stop
    // before the new end never leaves the old result looking like the new one's.
    if (state.epoch < o.epochs) run.clearResults();
    // Drop log lines written after the checkpoint (the killed run's lost steps will be redone identically).
    run.trimMetricsAfter(state.globalStep);
    return { model: ck.model, sgd, state, resumedFrom: { epoch: state.epoch, step: state.step } };
  }
  // A run that died before its first checkpoint starts again from scratch.
  if (run.isRun()) run.resetMetrics();
  const config: RunConfig = {
    train: resolved as unknown as RunConfig['train'],
    ...(o.protocol ? { protocol: o.protocol } : {}),
    ...versions(backend),
    dataFingerprint: set.manifest.fingerprint,
    data: resolve(o.data),
    dataFromRun: relative(resolve(o.out), resolve(o.data)),
    createdAt: new Date().toISOString(),
  };
  run.writeConfig(config);
  const state: LoopState = {
    epoch: 0,
    step: 0,
    globalStep: 0,
    bestEpoch: 0,
    bestScore: -1,
    epochLoss: zeroLoss(),
    history: [],
  };
  return { model: createModel(model0, o.seed), sgd, state, resumedFrom: undefined };
}

/** Everything one run's loop works with: its options, data, directory, the model being trained and the loop state. */
interface RunSession {
  o: TrainOptions;
  emit: (e: TrainEvent) => void;
  signal?: AbortSignal;
  backend: string;
  data: ReturnType<typeof openFold>;
  run: RunDir;
  lock: DirLock;
  /** Replaced by the selected weights for the test split. */
  model: Model;
  sgd: Sgd;
  state: LoopState;
  stepsPerEpoch: number;
  /** When this session started, and the global step it started at (for speed and ETA). */
  started: number;
  stepsAtStart: number;
}

const logLine = (r: RunSession, line: MetricsLine) => {
  r.lock.assertHeld(); // never write into a directory another process has taken over
  r.run.appendMetrics(line);
};

async function save(r: RunSession, path: string, kind: 'last' | 'best' | 'step'): Promise<void> {
  r.lock.assertHeld(); // never write into a directory another process has taken over
  await saveCheckpoint(path, r.model, {
    momentum: r.sgd.buffers,
    state: r.state as unknown as Record<string, unknown>,
    sampling: r.o.sampling,
  });
  r.emit({ type: 'checkpoint', path, kind });
}

function evaluate(r: RunSession, ids: string[], name: string) {
  return evaluateSplit(r.model, r.data.set, ids, {
    sampling: r.o.sampling,
    batchSize: r.o.evalBatchSize,
    workers: r.o.workers,
    onProgress: (done, total) => r.emit({ type: 'eval-progress', split: name, done, total }),
  }).catch((err) => {
    throw tooLargeForGpu(err, '--eval-batch', r.o.evalBatchSize);
  });
}

async function trainInLockedDir(
  o: TrainOptions,
  emit: (e: TrainEvent) => void,
  signal: AbortSignal | undefined,
  lock: DirLock,
): Promise<TrainSummary> {
  const backend = await useBackend(o.backend);
  const data = openFold(o);
  // Run directory: a new run writes config.json; an existing one is resumed only with the same configuration.
  const run = new RunDir(o.out);
  const { model, sgd, state, resumedFrom } = startOrResume(o, run, data.set, data.model0, backend);
  const stepsPerEpoch = batchCount(data.train.length, o.batchSize, true);
  const r: RunSession = {
    o,
    emit,
    signal,
    backend,
    data,
    run,
    lock,
    model,
    sgd,
    state,
    stepsPerEpoch,
    started: Date.now(),
    stepsAtStart: state.globalStep,
  };
  emit({
    type: 'run-start',
    runDir: o.out,
    epochs: o.epochs,
    stepsPerEpoch,
    trainClips: data.train.length,
    valClips: data.val.length,
    testClips: data.test.length,
    classes: data.classes,
    backend,
    selectOn: o.selectOn,
    ...(resumedFrom ? { resumedFrom } : {}),
    ...(o.protocol ? { protocol: o.protocol as RunProtocol } : {}),
  });
  try {
    let interrupted = false;
    while (state.epoch < o.epochs && !interrupted) {
      const lr = learningRate(o.schedule, state.epoch);
      const epochStart = Date.now();
      emit({ type: 'epoch-start', epoch: state.epoch + 1, epochs: o.epochs, lr });
      interrupted = await trainEpoch(r, lr);
      if (interrupted) break;
      await endEpoch(r, lr, epochStart);
      if (signal?.aborted) interrupted = true;
    }
    return await finishRun(r, interrupted);
  } finally {
    r.model.params.dispose();
    sgd.dispose();
  }
}

/** The training steps of the current epoch (from where a resumed run stopped); true when stopped by the signal. */
async function trainEpoch(r: RunSession, lr: number): Promise<boolean> {
  const { o, state, emit } = r;
  const epoch = state.epoch; // 0-based
  const totalSteps = r.stepsPerEpoch * o.epochs;
  for await (const batch of loadBatches({
    set: r.data.set,
    ids: r.data.train,
    mode: 'train',
    sampling: o.sampling,
    augment: o.augment ? OFFICIAL_AUGMENT : null,
    size: o.model.imageSize,
    batchSize: o.batchSize,
    seed: o.seed,
    epoch,
    dropLast: true,
    startBatch: state.step,
    workers: o.workers,
  })) {
    const stepStart = Date.now();
    const clips = tf.tensor5d(batch.clips, batch.shape);
    const labels = tf.tensor1d(batch.labels, 'int32');
    let l: LossParts;
    try {
      l = await trainStep(r.model, r.sgd, clips, labels, lr, o.loss, 'BTHWC');
    } catch (err) {
      throw tooLargeForGpu(err, '--batch', o.batchSize);
    } finally {
      tf.dispose([clips, labels]);
    }
    if (!Number.isFinite(l.total)) {
      const at = checkpointPaths(r.run.last).weights;
      throw new TrainError(
        `non-finite loss (${l.total}) at epoch ${epoch + 1}, step ${state.step + 1} (global step ${state.globalStep + 1}); the last good checkpoint is ${existsSync(at) ? at : 'none yet'}; try a lower --lr`,
      );
    }
    for (const k of ['total', 'ce', 'ial', 'aux'] as const) state.epochLoss[k] += l[k];
    state.epochLoss.steps++;
    state.step++;
    state.globalStep++;
    const elapsed = (Date.now() - r.started) / 1000;
    const done = state.globalStep - r.stepsAtStart;
    const clipsPerSecond = batch.ids.length / Math.max((Date.now() - stepStart) / 1000, 1e-6);
    logLine(r, {
      type: 'step',
      epoch: epoch + 1,
      step: state.step,
      globalStep: state.globalStep,
      lr,
      ...l,
      clipsPerSecond,
    });
    emit({
      type: 'step',
      epoch: epoch + 1,
      step: state.step,
      stepsPerEpoch: r.stepsPerEpoch,
      globalStep: state.globalStep,
      loss: l,
      lr,
      clipsPerSecond,
      elapsed,
      etaSeconds: (elapsed / done) * (totalSteps - state.globalStep),
    });
    // Let pending events in (a Ctrl-C): on a CPU backend the whole step ran without giving the event loop a turn.
    await new Promise((resolveTurn) => setImmediate(resolveTurn));
    if (r.signal?.aborted) {
      await save(r, r.run.last, 'step');
      return true;
    }
    if (o.saveEvery > 0 && state.globalStep % o.saveEvery === 0 && state.step < r.stepsPerEpoch)
      await save(r, r.run.last, 'step');
  }
  return false;
}

/** The end of an epoch: selection on the held-out split, the best and last checkpoints, the log and the curves. */
async function endEpoch(r: RunSession, lr: number, epochStart: number): Promise<void> {
  const { o, state } = r;
  state.epoch++;
  state.step = 0;
  const n = Math.max(state.epochLoss.steps, 1);
  const trainLoss: LossParts = {
    total: state.epochLoss.total / n,
    ce: state.epochLoss.ce / n,
    ial: state.epochLoss.ial / n,
    aux: state.epochLoss.aux / n,
  };
  state.epochLoss = zeroLoss();
  const selectIds = o.selectOn === 'test' ? r.data.test : r.data.val;
  let val: Metrics | undefined;
  let isBest = false;
  if (selectIds.length) {
    val = (await evaluate(r, selectIds, o.selectOn === 'test' ? 'test (selection)' : 'val')).metrics;
    const score = val[o.selectMetric];
    if (score > state.bestScore) {
      isBest = true;
      state.bestScore = score;
      state.bestEpoch = state.epoch;
    }
  } else {
    isBest = true; // no selection split: the last epoch is the selected one
    state.bestEpoch = state.epoch;
  }
  state.history.push({ epoch: state.epoch, trainLoss, ...(val ? { val: { uar: val.uar, war: val.war } } : {}) });
  if (isBest) await save(r, r.run.best, 'best');
  await save(r, r.run.last, 'last');
  logLine(r, {
    type: 'epoch',
    epoch: state.epoch,
    globalStep: state.globalStep,
    lr,
    trainLoss,
    ...(val ? { val: { uar: val.uar, war: val.war, perClass: val.perClass } } : {}),
    best: isBest,
  });
  await writeRunCurves(o.out);
  r.emit({
    type: 'epoch-end',
    epoch: state.epoch,
    epochs: o.epochs,
    trainLoss,
    ...(val ? { val } : {}),
    best: isBest,
    bestEpoch: state.bestEpoch,
    seconds: (Date.now() - epochStart) / 1000,
  });
}

/**
 * The end of the run: the test split once with the selected weights (results.json, test-predictions.csv, the
 * confusion plot), or the stored result of a run that was already finished; summary.json either way.
 */
async function finishRun(r: RunSession, interrupted: boolean): Promise<TrainSummary> {
  const { o, state, run, emit } = r;
  const best = run.best;
  const summary: TrainSummary = {
    runDir: o.out,
    interrupted,
    selectedOn: o.selectOn,
    selectMetric: o.selectMetric,
    bestEpoch: state.bestEpoch,
    epochs: state.epoch,
    steps: state.globalStep,
    checkpoint: best,
    dataFingerprint: r.data.set.manifest.fingerprint,
    backend: r.backend,
  };
  r.lock.assertHeld();
  // A finished run asked to train again (the same command, or dfer train --folds 1-5 after a stop) is not evaluated
  // again: its stored test result stands.
  const finished = !interrupted && r.stepsAtStart === state.globalStep && run.hasResults();
  if (finished) {
    const stored = run.readResults();
    summary.test = stored.metrics;
    emit({ type: 'test', split: 'test', metrics: stored.metrics, checkpoint: best });
  } else if (!interrupted) {
    r.model.params.dispose();
    const selected = loadCheckpoint(best, r.data.model0);
    tf.dispose([...selected.momentum.values()]);
    r.model = selected.model;
    const test = await evaluate(r, r.data.test, 'test');
    summary.test = test.metrics;
    run.writeResults({
      split: 'test',
      fold: o.fold,
      selectedOn: o.selectOn,
      bestEpoch: state.bestEpoch,
      metrics: test.metrics,
    });
    const classes = r.data.classes;
    const plot = await writeSvgAndPng(
      confusionSvg(test.metrics.confusion, classes, {
        title: `fold ${o.fold} test: UAR ${(100 * test.metrics.uar).toFixed(2)}%  WAR ${(100 * test.metrics.war).toFixed(2)}%${o.selectOn === 'test' ? ' (selected on test)' : ''}`,
      }),
      join(o.out, 'confusion'),
    );
    summary.files = [run.path('results'), plot.svg, plot.png, join(o.out, 'curves-loss.png')];
    run.writePredictions(
      test.clips.map((c) => ({ id: c.id, label: classes[c.label], predicted: classes[c.predicted] })),
    );
    emit({ type: 'test', split: 'test', metrics: test.metrics, checkpoint: best });
  }
  run.writeSummary({ ...summary, history: state.history });
  emit({ type: 'run-end', runDir: o.out, summary: summary as unknown as Record<string, unknown>, interrupted });
  return summary;
}
