// `dfer ablate`: the paper's ablation tables (Tables 1-3) as a grid of ordinary training runs.
//   grid      the cross product of the axes given (GCA on/off, IAL on/off, attention types, aux on/off, lambda, r),
//             each combination a *setting*, repeated per fold and seed: one *run* each, an ordinary run directory
//             <out>/<setting>/fold<k>-seed<s> (so dfer train, eval and tsne all apply to it)
//   execution each run is `dfer train ... --json --out <run dir>` in a child process (a runner function, injected
//             in tests), --jobs at a time; a run with results.json is finished and skipped, any other is started
//             with the same command, which resumes it exactly where it stopped
//   table     per setting, mean and sample sd over its folds and seeds of UAR, WAR, per-class recall and recall by
//             intensity bin; written to <out>/results.md, results.csv and results.json
// The core emits AblateEvents; src/ui/ablate.tsx renders them (a live grid on a terminal, lines otherwise).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../atomic.js';
import { ATTENTION_TYPES, diffConfigs, type AttentionType } from '../config.js';
import { PreparedSet } from '../data/store.js';
import { RunDir } from '../train/run-dir.js';
import type { TrainEvent } from '../train/events.js';
import type { Metrics } from '../metrics/metrics.js';
import { OptionError, resolveTrainOptions, TRAIN_DEFAULTS, type TrainSettings } from '../train/options.js';
import type { TrainOptions } from '../train/trainer.js';
import { meanSd } from '../metrics/aggregate.js';
import { confusionSvg, intensitySvg, sideBySideSvg } from '../figures/plots.js';
import { writeSvgAndPng } from '../figures/svg.js';
import { compareMetricPairs, pairedCells, vsBaselineJson, type VsBaseline } from '../metrics/paired.js';

export class AblateError extends OptionError {}

// ---------------------------------------------------------------------------------------------------------------
// The grid

/** The axes of the grid, as the user gives them; each one present multiplies the grid. */
export interface AblateAxes {
  /** Table 1: without and with GCA (attention none | gca). */
  gca?: boolean;
  /** Table 1: without and with the intensity-aware loss. */
  ial?: boolean;
  /** Table 2: channel attention types. */
  attention?: AttentionType[];
  /** Table 2: the auxiliary classifier off and/or on. */
  aux?: boolean[];
  /** Table 3: IAL weights. */
  lambda?: number[];
  /** Table 3: reduction ratios. */
  r?: number[];
}

export interface AblateSpec {
  axes: AblateAxes;
  folds: string[];
  seeds: number[];
  /** Every other train option (flags and --config merged); fold, seed and out are the grid's. */
  base: TrainSettings;
  /**
   * Options of `base` that each run resolves by itself and so are not put on its command line: the dataset protocol's
   * (the run reads the same set), so that its config.json says they came from the protocol, not from flags.
   */
  implicit?: string[];
  /** Directory of the grid: one sub-directory per setting, one run directory per fold and seed in it. */
  out: string;
}

/** One value of an axis: how the table shows it, how a directory name spells it, the train options it sets. */
interface AxisValue {
  display: string;
  name: string;
  settings: TrainSettings;
}

interface Axis {
  key: 'gca' | 'attention' | 'aux' | 'ial' | 'lambda' | 'r';
  column: string;
  values: AxisValue[];
}

/** A combination of axis values (a row of the paper's table). */
export interface GridSetting {
  /** Directory name, e.g. "gca-ial", "no-gca-no-ial", "cbam-no-aux", "lambda0.15-r8"; "default" without axes. */
  name: string;
  /** Table cells by axis column; "-" where the axis does not apply (aux without attention, lambda without IAL). */
  values: Record<string, string>;
  /** The train options the axes set. */
  settings: TrainSettings;
}

/** One training run of the grid: a setting on a fold with a seed. */
export interface GridRun {
  /** `<setting>/fold<k>-seed<s>`, also its directory under the grid's out. */
  id: string;
  setting: string;
  fold: string;
  seed: number;
  dir: string;
  /** The complete train options of the run. */
  settings: TrainSettings;
  /** Arguments of `dfer train` for it (without --json, which the runner adds). */
  args: string[];
}

export interface GridPlan {
  out: string;
  /** The options every run shares (besides its setting, fold and seed). */
  base: TrainSettings;
  /** Of those, the ones each run resolves by itself (left off its command line). */
  implicit: string[];
  /** Axis columns of the table, in order. */
  columns: string[];
  settings: GridSetting[];
  folds: string[];
  seeds: number[];
  runs: GridRun[];
}

const num = (v: number) => String(v);

function axesOf(a: AblateAxes): Axis[] {
  if (a.gca !== undefined && a.attention)
    throw new AblateError(
      '--gca (attention none vs gca) and --attention both choose the attention: give one of them (e.g. --attention none,gca)',
    );
  const axes: Axis[] = [];
  if (a.gca) {
    axes.push({
      key: 'gca',
      column: 'GCA',
      values: [
        { display: '✗', name: 'no-gca', settings: { gca: false } },
        { display: '✓', name: 'gca', settings: { gca: true } },
      ],
    });
  }
  if (a.attention?.length)
    axes.push({
      key: 'attention',
      column: 'attention',
      values: a.attention.map((t) => ({ display: t, name: t, settings: { attention: t } })),
    });
  if (a.aux?.length)
    axes.push({
      key: 'aux',
      column: 'aux',
      values: a.aux.map((on) => ({ display: on ? '✓' : '✗', name: on ? 'aux' : 'no-aux', settings: { aux: on } })),
    });
  if (a.ial) {
    axes.push({
      key: 'ial',
      column: 'IAL',
      values: [
        { display: '✗', name: 'no-ial', settings: { ial: false } },
        { display: '✓', name: 'ial', settings: { ial: true } },
      ],
    });
  }
  if (a.lambda?.length)
    axes.push({
      key: 'lambda',
      column: 'λ',
      values: a.lambda.map((v) => ({ display: num(v), name: `lambda${num(v)}`, settings: { lambda: v } })),
    });
  if (a.r?.length)
    axes.push({
      key: 'r',
      column: 'r',
      values: a.r.map((v) => ({ display: num(v), name: `r${num(v)}`, settings: { r: v } })),
    });
  for (const axis of axes) {
    const names = axis.values.map((v) => v.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new AblateError(`--${axis.key} lists ${dup.replace(/^(lambda|r)/, '')} twice`);
  }
  return axes;
}

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Train options as `dfer train` flags: --weight-decay 0.1, --no-ial, ... (undefined ones left out). */
export function settingsToArgs(s: TrainSettings): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(s)) {
    if (value === undefined) continue;
    if (typeof value === 'boolean') args.push(value ? `--${kebab(key)}` : `--no-${kebab(key)}`);
    else args.push(`--${kebab(key)}`, String(value));
  }
  return args;
}

/** The cross product of the axes, the runs of each setting per fold and seed, and their train command lines. */
export function expandGrid(spec: AblateSpec): GridPlan {
  if (!spec.folds.length) throw new AblateError('no folds to run (--folds)');
  if (!spec.seeds.length) throw new AblateError('no seeds to run (--seeds)');
  const axes = axesOf(spec.axes);
  let combos: AxisValue[][] = [[]];
  for (const axis of axes) combos = combos.flatMap((c) => axis.values.map((v) => [...c, v]));

  const settings: GridSetting[] = [];
  const seen = new Set<string>();
  for (const combo of combos) {
    let s: TrainSettings = {};
    for (const v of combo) s = { ...s, ...v.settings };
    // What the combination resolves to: an axis that does not apply is dropped (no aux head without attention, no
    // lambda without IAL), so that e.g. "attention none" with aux on and off is one setting, not two equal ones.
    const probe = resolveTrainOptions(
      {},
      { ...spec.base, ...s, data: spec.base.data ?? '-', fold: spec.folds[0], seed: spec.seeds[0] },
    );
    const applies = (key: Axis['key']) =>
      key === 'aux' ? probe.model.attention !== 'none' : key === 'lambda' ? probe.loss.ial : true;
    const parts: string[] = [];
    const values: Record<string, string> = {};
    combo.forEach((v, i) => {
      const axis = axes[i];
      if (applies(axis.key)) {
        parts.push(v.name);
        values[axis.column] = v.display;
      } else {
        values[axis.column] = '-';
        const { [axis.key as keyof TrainSettings]: _dropped, ...rest } = s;
        s = rest;
      }
    });
    const name = parts.join('-') || 'default';
    if (seen.has(name)) continue;
    seen.add(name);
    settings.push({ name, values, settings: s });
  }

  const runs: GridRun[] = gridCells(spec.out, settings, spec.folds, spec.seeds).map(
    ({ setting, fold, seed, id, dir }) => {
      const full: TrainSettings = { ...spec.base, ...setting.settings, fold, seed, out: dir };
      resolveTrainOptions({}, full); // every run's options are valid before any starts
      return {
        id,
        setting: setting.name,
        fold,
        seed,
        dir,
        settings: full,
        args: trainArgs(
          full,
          (spec.implicit ?? []).filter((k) => !(k in setting.settings)),
        ),
      };
    },
  );
  return {
    out: spec.out,
    base: { ...spec.base },
    implicit: [...(spec.implicit ?? [])],
    columns: axes.map((a) => a.column),
    settings,
    folds: [...spec.folds],
    seeds: [...spec.seeds],
    runs,
  };
}

/**
 * A grid's runs, each with its id and directory (<out>/<setting>/fold<k>-seed<s>), in pair-major order (seed, then
 * fold, then setting): the runs the paired statistics compare finish together, so a grid stopped halfway (or still
 * running) already has complete (fold, seed) pairs to compare, not all of one setting and none of another. dfer
 * report rebuilds a grid from its results.json with it, so its pairs come in the order the bootstrap saw them.
 */
export function gridCells<S extends { name: string }>(
  out: string,
  settings: readonly S[],
  folds: readonly string[],
  seeds: readonly number[],
): { setting: S; fold: string; seed: number; id: string; dir: string }[] {
  return seeds.flatMap((seed) =>
    folds.flatMap((fold) =>
      settings.map((setting) => ({
        setting,
        fold,
        seed,
        id: `${setting.name}/fold${fold}-seed${seed}`,
        dir: join(out, setting.name, `fold${fold}-seed${seed}`),
      })),
    ),
  );
}

/** The settings without those left to each run (see AblateSpec.implicit). */
const explicit = (s: TrainSettings, implicit: readonly string[]): TrainSettings =>
  Object.fromEntries(Object.entries(s).filter(([k]) => !implicit.includes(k)));

/** The `dfer train` arguments of a run: its settings without those it resolves by itself. */
const trainArgs = (s: TrainSettings, implicit: readonly string[]): string[] => [
  'train',
  ...settingsToArgs(explicit(s, implicit)),
];

/**
 * `dfer train --folds` as a grid of one setting ("train"), for an executor: a run per fold into the run directory
 * dfer train chose for it, each run id that directory as shown.
 */
export function foldsGrid(o: {
  out: string;
  base: TrainSettings;
  implicit: string[];
  seed: number;
  runs: { fold: string; dir: string }[];
}): GridPlan {
  const runs: GridRun[] = o.runs.map(({ fold, dir }) => {
    const full: TrainSettings = { ...o.base, fold, seed: o.seed, out: dir };
    return { id: dir, setting: 'train', fold, seed: o.seed, dir, settings: full, args: trainArgs(full, o.implicit) };
  });
  return {
    out: o.out,
    base: { ...o.base },
    implicit: [...o.implicit],
    columns: [],
    settings: [{ name: 'train', values: {}, settings: {} }],
    folds: o.runs.map((r) => r.fold),
    seeds: [o.seed],
    runs,
  };
}

/** The axis flags of dfer ablate as they were given (booleans, or comma-separated lists as text). */
export interface AxisFlags {
  gca?: boolean;
  ial?: boolean;
  attention?: string;
  aux?: 'both' | 'on' | 'off';
  lambda?: string;
  r?: string;
}

/**
 * The grid's axes from dfer ablate's flags, and the options they fix for every run instead: --no-gca, --aux on, or a
 * list of one value (--lambda 0.3) is an ordinary option, not an axis.
 */
export function axesFromFlags(f: AxisFlags): { axes: AblateAxes; fixed: TrainSettings } {
  const axes: AblateAxes = {};
  const fixed: TrainSettings = {};
  const list = <T>(key: keyof TrainSettings, values: T[], set: (v: T[]) => void) => {
    if (values.length > 1) set(values);
    else (fixed as Record<string, unknown>)[key] = values[0];
  };
  if (f.gca === true) axes.gca = true;
  else if (f.gca === false) fixed.gca = false;
  if (f.ial === true) axes.ial = true;
  else if (f.ial === false) fixed.ial = false;
  if (f.attention) {
    const types = f.attention.split(',').map((t) => t.trim());
    const bad = types.find((t) => !(ATTENTION_TYPES as readonly string[]).includes(t));
    if (bad !== undefined)
      throw new AblateError(`--attention ${f.attention}: "${bad}" is not one of ${ATTENTION_TYPES.join(', ')}`);
    list('attention', types as AttentionType[], (v) => (axes.attention = v));
  }
  if (f.aux === 'both') axes.aux = [false, true];
  else if (f.aux) fixed.aux = f.aux === 'on';
  if (f.lambda) list('lambda', parseNumberList('lambda', f.lambda), (v) => (axes.lambda = v));
  if (f.r) list('r', parseIntList('r', f.r), (v) => (axes.r = v));
  return { axes, fixed };
}

/** "1,2,3", "1-3" -> [1, 2, 3]. */
export function parseIntList(name: string, spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const m = part.trim().match(/^(-?\d+)(?:-(\d+))?$/);
    if (!m) throw new AblateError(`--${name} ${spec}: expected integers like 1,2,3 or 1-3`);
    const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
    for (let k = Math.min(a, b); k <= Math.max(a, b); k++) out.push(k);
  }
  return out;
}

/** "0.1,0.15,0.3" -> [0.1, 0.15, 0.3]. */
export function parseNumberList(name: string, spec: string): number[] {
  const out = spec.split(',').map((p) => p.trim());
  const bad = out.find((p) => p === '' || !Number.isFinite(Number(p)));
  if (bad !== undefined) throw new AblateError(`--${name} ${spec}: expected numbers like 0.1,0.15,0.3`);
  return out.map(Number);
}

// ---------------------------------------------------------------------------------------------------------------
// Which runs are finished

/** The part of a run's options that a finished run must share with the grid's (see the trainer's identity()). */
function identityOf(o: TrainOptions | Record<string, unknown>): Record<string, unknown> {
  const { backend: _b, out: _o, workers: _w, ...rest } = o as Record<string, unknown>;
  const model = { ...(rest.model as Record<string, unknown>) };
  // The run's classes (and so the classifier's width) come from its data, which the fingerprint already pins.
  delete model.classes;
  delete model.numClasses;
  return { ...rest, data: resolve(String(rest.data)), model };
}

/**
 * Whether a run directory holds a finished run of these options ('done'), a run to start or resume ('todo'), or a
 * run of other options (a message saying which differ).
 */
export function runState(run: GridRun): { state: 'done' | 'todo' } | { state: 'conflict'; message: string } {
  const dir = new RunDir(run.dir);
  if (!dir.isRun()) return { state: 'todo' };
  let saved: Record<string, unknown>;
  try {
    saved = dir.readConfig().train;
  } catch {
    return { state: 'todo' }; // the trainer rewrites a config it cannot read only if there is no checkpoint; let it say
  }
  const expected = resolveTrainOptions({}, run.settings);
  const diff = diffConfigs(identityOf(saved), identityOf(expected));
  // (The data is matched by fingerprint when the run resumes; its path may differ after a move.)
  const other = diff.filter(
    (d) => !d.startsWith('epochs:') && !d.startsWith('schedule.epochs:') && !d.startsWith('data:'),
  );
  if (other.length)
    return {
      state: 'conflict',
      message: `${run.dir} holds a run with other options (${other.slice(0, 3).join('; ')}); use another --out, or the flags it was started with`,
    };
  // More (or fewer) epochs than the finished run: run it again, the trainer continues from its last checkpoint.
  return dir.hasResults() && !diff.length ? { state: 'done' } : { state: 'todo' };
}

/** The test metrics of a finished run (its results.json). */
export function readRunMetrics(dir: string): Metrics {
  return new RunDir(dir).readResults().metrics;
}

// ---------------------------------------------------------------------------------------------------------------
// Running the grid

/** queued: not started (locally) or not submitted (Slurm); pending: submitted to Slurm, waiting for a node. */
export type RunStatus = 'queued' | 'pending' | 'running' | 'done' | 'failed' | 'interrupted';

export type AblateEvent =
  | {
      type: 'grid-start';
      plan: GridPlan;
      jobs: number;
      finished: { id: string; uar: number; war: number }[];
      executor?: 'local' | 'slurm';
    }
  | { type: 'run-start'; id: string }
  /** A training event of a running run (its epoch progress and validation, from `dfer train --json`). */
  | { type: 'run-event'; id: string; event: TrainEvent }
  | {
      type: 'run-end';
      id: string;
      status: 'done' | 'failed' | 'interrupted';
      code: number;
      error?: string;
      test?: { uar: number; war: number };
      seconds: number;
    }
  | {
      type: 'grid-end';
      table: AblationTable;
      interrupted: boolean;
      failed: string[];
      failures: RunFailure[];
      inFlight: string[];
      files: string[];
    }
  // The Slurm executor's (src/cluster/slurm.ts): runs handed to Slurm and waiting for a node, and the submission.
  | { type: 'run-pending'; id: string; job: string }
  | { type: 'submitted'; job: string; runs: string[]; script: string };

export interface RunFailure {
  id: string;
  code: number;
  error: string;
}

/** Runs one training run to its end; resolves with its exit code (0 done, 130 interrupted, 3 bad input, ...). */
export type RunRunner = (
  run: GridRun,
  hooks: { onEvent: (e: TrainEvent) => void; signal: AbortSignal },
) => Promise<{ code: number; error?: string }>;

/** Children of spawnTrainRunner still running: told to stop (SIGINT: save and exit) if ablate itself exits. */
const liveChildren = new Set<ChildProcess>();
let exitHook = false;

/**
 * The real runner: `node <bin> train ... --json` in a child process of its own process group (so a Ctrl-C reaches
 * it once, forwarded by ablate), its JSON events parsed line by line; an abort sends it SIGINT (it saves and stops).
 */
export function spawnTrainRunner(bin: string, env: NodeJS.ProcessEnv = process.env): RunRunner {
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const child of liveChildren) child.kill('SIGINT');
    });
  }
  return (run, { onEvent, signal }) =>
    new Promise((done, fail) => {
      const child = spawn(process.execPath, [bin, ...run.args, '--json'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      liveChildren.add(child);
      let buffer = '';
      let error: string | undefined;
      let stderr = '';
      const onAbort = () => child.kill('SIGINT');
      signal.addEventListener('abort', onAbort, { once: true });
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (!line) continue;
          try {
            const e = JSON.parse(line);
            if (e && typeof e.error === 'string') error = e.error;
            else if (e && typeof e.type === 'string') onEvent(e as TrainEvent);
          } catch {
            // not an event (a stray print); ignore
          }
        }
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
      child.on('error', (err) => {
        liveChildren.delete(child);
        fail(err);
      });
      child.on('close', (code, sig) => {
        liveChildren.delete(child);
        signal.removeEventListener('abort', onAbort);
        const lastLine = stderr.trim().split('\n').filter(Boolean).at(-1);
        const exit = code ?? (sig === 'SIGINT' ? 130 : 128 + 9);
        done({
          code: exit,
          ...(exit !== 0 && exit !== 130
            ? {
                error:
                  error ?? lastLine?.replace(/^dfer train: error: /, '') ?? `exit ${exit}${sig ? ` (${sig})` : ''}`,
              }
            : {}),
        });
      });
    });
}

export interface GridOptions {
  jobs: number;
  runner: RunRunner;
  signal?: AbortSignal;
  emit?: (e: AblateEvent) => void;
  /** Class names for the table (default: the data's). */
  classes?: string[];
  /** The setting the others are compared with, pair by pair (default: the grid's first, every axis off). */
  baseline?: string;
}

export interface GridResult {
  table: AblationTable;
  interrupted: boolean;
  /** Ids of the runs that failed, and why. */
  failed: string[];
  failures: RunFailure[];
  /** Runs still in flight elsewhere when the table was made (a Slurm array not waited for): neither done nor failed. */
  inFlight: string[];
  files: string[];
}

/**
 * The grid's runs sorted out before any starts: the finished ones (with their test metrics) and the ones to run (new
 * or stopped midway). A run directory that holds a run of other options stops the grid.
 */
export function gridStates(plan: GridPlan): { metrics: Map<string, Metrics>; todo: GridRun[] } {
  const states = plan.runs.map((run) => ({ run, s: runState(run) }));
  const conflict = states.find((x) => x.s.state === 'conflict');
  if (conflict && conflict.s.state === 'conflict') throw new AblateError(conflict.s.message);
  const metrics = new Map<string, Metrics>();
  for (const { run, s } of states) if (s.state === 'done') metrics.set(run.id, readRunMetrics(run.dir));
  return { metrics, todo: states.filter((x) => x.s.state === 'todo').map((x) => x.run) };
}

/** Runs the grid: finished runs skipped, the others (new or stopped midway) run by `runner`, `jobs` at a time. */
export async function runGrid(plan: GridPlan, o: GridOptions): Promise<GridResult> {
  const emit = o.emit ?? (() => {});
  const signal = o.signal ?? new AbortController().signal;
  const { metrics, todo: queue } = gridStates(plan);
  emit({
    type: 'grid-start',
    plan,
    jobs: o.jobs,
    finished: [...metrics].map(([id, m]) => ({ id, uar: m.uar, war: m.war })),
  });

  const failures: RunFailure[] = [];
  let interrupted = false;
  const worker = async () => {
    for (;;) {
      if (signal.aborted) {
        if (queue.length) interrupted = true;
        return;
      }
      const run = queue.shift();
      if (!run) return;
      const started = Date.now();
      mkdirSync(run.dir, { recursive: true });
      emit({ type: 'run-start', id: run.id });
      let result: { code: number; error?: string };
      try {
        result = await o.runner(run, { onEvent: (event) => emit({ type: 'run-event', id: run.id, event }), signal });
      } catch (err) {
        result = { code: 1, error: (err as Error).message };
      }
      const seconds = (Date.now() - started) / 1000;
      if (result.code === 0 && new RunDir(run.dir).hasResults()) {
        const m = readRunMetrics(run.dir);
        metrics.set(run.id, m);
        emit({ type: 'run-end', id: run.id, status: 'done', code: 0, test: { uar: m.uar, war: m.war }, seconds });
      } else if (result.code === 130 || (signal.aborted && result.code !== 0)) {
        interrupted = true;
        emit({ type: 'run-end', id: run.id, status: 'interrupted', code: result.code, seconds });
      } else {
        const error =
          result.code === 0 ? 'the run ended without results.json' : (result.error ?? `exit ${result.code}`);
        failures.push({ id: run.id, code: result.code || 1, error });
        emit({ type: 'run-end', id: run.id, status: 'failed', code: result.code || 1, error, seconds });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.jobs, queue.length || 1)) }, worker));
  return finishGrid(plan, metrics, { interrupted, failures, inFlight: [] }, o);
}

/**
 * The end of a grid, whichever executor ran it: the table of the finished runs, written to <out>/results.* with the
 * intensity figure, and the grid-end event. `inFlight`: runs still running elsewhere (a Slurm array not waited for).
 */
export async function finishGrid(
  plan: GridPlan,
  metrics: ReadonlyMap<string, Metrics>,
  r: { interrupted: boolean; failures: RunFailure[]; inFlight: string[] },
  o: Pick<GridOptions, 'emit' | 'classes' | 'baseline'>,
): Promise<GridResult> {
  const classes = o.classes ?? classesOf(plan, metrics);
  const table = ablationTable(plan, metrics, classes, o.baseline);
  const files = [
    ...writeTables(plan.out, table),
    ...(await writeIntensityFigure(plan.out, table)),
    ...(await writeConfusionFigure(plan.out, plan, metrics, classes)),
  ];
  const failed = r.failures.map((x) => x.id);
  const result = { table, interrupted: r.interrupted, failed, failures: r.failures, inFlight: r.inFlight, files };
  o.emit?.({ type: 'grid-end', ...result });
  return result;
}

function classesOf(plan: GridPlan, metrics: ReadonlyMap<string, Metrics>): string[] {
  for (const run of plan.runs) {
    if (!metrics.has(run.id)) continue;
    try {
      return new RunDir(run.dir).readConfig().train.model.classes;
    } catch {
      // fall through
    }
  }
  const k = [...metrics.values()][0]?.perClass.length ?? 0;
  return Array.from({ length: k }, (_, i) => `class${i}`);
}

/** Checks what can be checked before any run starts: the prepared set exists and has the folds. */
export function checkData(spec: AblateSpec): string[] {
  if (!spec.base.data) throw new AblateError('--data is required: a prepared set (dfer prepare)');
  const set = PreparedSet.open(spec.base.data);
  for (const fold of spec.folds) set.split(fold, 'test'); // throws naming the fold
  return set.manifest.classes;
}

// ---------------------------------------------------------------------------------------------------------------
// The table

export interface MeanSd {
  mean: number;
  sd: number; // sample sd (n - 1); NaN for one value
}

export interface SettingResult {
  setting: string;
  values: Record<string, string>;
  settings: TrainSettings;
  /** Finished runs (of folds x seeds). */
  runs: number;
  expected: number;
  uar: MeanSd;
  war: MeanSd;
  perClass: MeanSd[];
  /** Recall by intensity bin, when the data has intensity; toNeutral: share of the bin's clips predicted neutral. */
  byIntensity?: { lo: number; hi: number; clips: number; recall: MeanSd; toNeutral?: MeanSd }[];
  /** The finished runs' own numbers. */
  members: { id: string; fold: string; seed: number; uar: number; war: number }[];
  /** Against the baseline setting, paired by (fold, seed) (src/analysis/paired.ts); absent on the baseline itself. */
  vsBaseline?: VsBaseline;
}

/** A setting's runs against the baseline's, pair by pair: the (fold, seed) pairs both have finished. */
export function compareWithBaseline(
  plan: GridPlan,
  metrics: ReadonlyMap<string, Metrics>,
  setting: string,
  baseline: string,
): VsBaseline {
  const key = (r: GridRun) => `${r.fold}/${r.seed}`;
  const base = new Map(
    plan.runs.filter((r) => r.setting === baseline && metrics.has(r.id)).map((r) => [key(r), metrics.get(r.id)!]),
  );
  const pairs = plan.runs
    .filter((r) => r.setting === setting && metrics.has(r.id) && base.has(key(r)))
    .map((r) => [metrics.get(r.id)!, base.get(key(r))!] as const);
  return compareMetricPairs(pairs, baseline);
}

export interface AblationTable {
  /** The options every run shares, as train flags. */
  options: string[];
  columns: string[];
  classes: string[];
  folds: string[];
  seeds: number[];
  rows: SettingResult[];
}

/** Mean and sample sd over a setting's finished runs (all its folds and seeds pooled). */
export function aggregateSetting(
  ms: readonly Metrics[],
  classes: number,
): Pick<SettingResult, 'uar' | 'war' | 'perClass' | 'byIntensity'> {
  const uar = meanSd(ms.map((m) => m.uar));
  const war = meanSd(ms.map((m) => m.war));
  // A class's recall over the runs whose test split holds it (as aggregateFolds).
  const perClass = Array.from({ length: classes }, (_, c) =>
    meanSd(ms.filter((m) => (m.support[c] ?? 1) > 0).map((m) => m.perClass[c])),
  );
  const binned = ms.filter((m) => m.byIntensity?.length);
  let byIntensity: SettingResult['byIntensity'];
  if (binned.length) {
    byIntensity = binned[0].byIntensity!.map((b0, k) => {
      const bins = binned.map((m) => m.byIntensity![k]).filter((b) => b && b.lo === b0.lo && b.hi === b0.hi);
      const filled = bins.filter((b) => b.clips > 0);
      const drift = filled.filter((b) => b.toNeutral !== undefined);
      return {
        lo: b0.lo,
        hi: b0.hi,
        clips: bins.reduce((a, b) => a + b.clips, 0),
        recall: meanSd(filled.map((b) => b.recall)),
        ...(drift.length ? { toNeutral: meanSd(drift.map((b) => b.toNeutral!)) } : {}),
      };
    });
  }
  return { uar, war, perClass, ...(byIntensity ? { byIntensity } : {}) };
}

export function ablationTable(
  plan: GridPlan,
  metrics: ReadonlyMap<string, Metrics>,
  classes: string[],
  baseline = plan.settings[0]?.name,
): AblationTable {
  if (baseline !== undefined && !plan.settings.some((x) => x.name === baseline)) {
    throw new AblateError(
      `--baseline ${baseline}: not a setting of this grid (${plan.settings.map((x) => x.name).join(', ')})`,
    );
  }
  const rows = plan.settings.map((setting): SettingResult => {
    const runs = plan.runs.filter((r) => r.setting === setting.name);
    const done = runs.filter((r) => metrics.has(r.id));
    const ms = done.map((r) => metrics.get(r.id)!);
    return {
      setting: setting.name,
      values: setting.values,
      settings: setting.settings,
      runs: done.length,
      expected: runs.length,
      ...aggregateSetting(ms, classes.length),
      members: done.map((r) => ({
        id: r.id,
        fold: r.fold,
        seed: r.seed,
        uar: metrics.get(r.id)!.uar,
        war: metrics.get(r.id)!.war,
      })),
      ...(baseline !== undefined && setting.name !== baseline && plan.settings.length > 1
        ? { vsBaseline: compareWithBaseline(plan, metrics, setting.name, baseline) }
        : {}),
    };
  });
  return {
    options: settingsToArgs(explicit(plan.base, plan.implicit)),
    columns: plan.columns,
    classes,
    folds: plan.folds,
    seeds: plan.seeds,
    rows,
  };
}

const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(2) : 'n/a');

/** "56.51 ± 1.23" (percent), or "56.51" for a single run, "n/a" for none. */
export function meanSdText(m: MeanSd): string {
  if (!Number.isFinite(m.mean)) return 'n/a';
  return Number.isFinite(m.sd) ? `${pct(m.mean)} ± ${pct(m.sd)}` : pct(m.mean);
}

const binLabel = (b: { lo: number; hi: number }) => `${b.lo.toFixed(2)}-${b.hi.toFixed(2)}`;

/** Header and rows of the table as text cells: setting columns, runs, UAR, WAR, recall per intensity bin. */
export function tableCells(t: AblationTable): { header: string[]; rows: string[][] } {
  const bins = t.rows.find((r) => r.byIntensity?.length)?.byIntensity ?? [];
  const compared = t.rows.find((r) => r.vsBaseline);
  const header = [
    ...(t.columns.length ? t.columns : ['setting']),
    'runs',
    'UAR (%)',
    'WAR (%)',
    ...bins.map((b) => `recall I ${binLabel(b)}`),
    ...(compared ? [`ΔUAR vs ${compared.vsBaseline!.baseline} [95% CI]`, 'p', 'ΔWAR [95% CI]', 'p'] : []),
  ];
  const rows = t.rows.map((r) => [
    ...(t.columns.length ? t.columns.map((c) => r.values[c] ?? '') : [r.setting]),
    r.runs === r.expected ? String(r.runs) : `${r.runs}/${r.expected}`,
    meanSdText(r.uar),
    meanSdText(r.war),
    ...bins.map((_, k) => (r.byIntensity?.[k] ? meanSdText(r.byIntensity[k].recall) : 'n/a')),
    ...(compared
      ? r.vsBaseline
        ? [...pairedCells(r.vsBaseline.uar), ...pairedCells(r.vsBaseline.war)]
        : ['baseline', '', '', '']
      : []),
  ]);
  return { header, rows };
}

/** "mean ± sample sd over 5 folds x 3 seeds", or "fold 1, seed 1" for a single run per setting. */
export function overText(t: Pick<AblationTable, 'folds' | 'seeds'>): string {
  const folds = t.folds.length > 1 ? `${t.folds.length} folds (${t.folds.join(',')})` : `fold ${t.folds[0]}`;
  const seeds = t.seeds.length > 1 ? `${t.seeds.length} seeds (${t.seeds.join(',')})` : `seed ${t.seeds[0]}`;
  return t.folds.length * t.seeds.length > 1 ? `mean ± sample sd over ${folds} x ${seeds}` : `${folds}, ${seeds}`;
}

export function ablationMarkdown(t: AblationTable): string {
  const { header, rows } = tableCells(t);
  const align = header.map((_, i) => (i < (t.columns.length || 1) ? ':---:' : '---:'));
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const options = t.options.length
    ? ['', `Every run: \`dfer train ${t.options.join(' ')}\` with the setting's flags, --fold and --seed.`]
    : [];
  const compared = t.rows.find((r) => r.vsBaseline);
  const method = compared
    ? [
        '',
        `Δ: the mean paired difference with ${compared.vsBaseline!.baseline}, in points, over the (fold, seed) pairs both finished; 95% CI: percentile bootstrap over the pairs; p: exact paired sign-flip test (two-sided). One pair gives no interval.`,
      ]
    : [];
  // The neutral drift the paper argues from: the share of expressive clips predicted "neutral", by intensity.
  const bins = t.rows.find((r) => r.byIntensity?.some((b) => b.toNeutral))?.byIntensity ?? [];
  const drift = bins.length
    ? [
        '',
        'Predicted "neutral" (% of the expressive clips of each apex-intensity bin; mean ± sd over runs):',
        '',
        line([t.columns.length ? t.columns.join(' ') : 'setting', ...bins.map((b) => `I ${binLabel(b)}`)]),
        line([':---:', ...bins.map(() => '---:')]),
        ...t.rows.map((r) =>
          line([
            t.columns.length ? t.columns.map((c) => r.values[c] ?? '').join(' ') : r.setting,
            ...bins.map((_, k) => (r.byIntensity?.[k]?.toNeutral ? meanSdText(r.byIntensity[k].toNeutral!) : 'n/a')),
          ]),
        ),
      ]
    : [];
  return [
    `Test-split UAR and WAR (%), ${overText(t)}.`,
    '',
    line(header),
    line(align),
    ...rows.map(line),
    ...method,
    ...drift,
    ...options,
    '',
  ].join('\n');
}

const csvCell = (v: string | number) => {
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(+v.toFixed(6)) : '') : v;
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One line per setting; fractions (not %) with 6 decimals; empty where undefined (sd of one run). */
export function ablationCsv(t: AblationTable): string {
  const bins = t.rows.find((r) => r.byIntensity?.length)?.byIntensity ?? [];
  const plainAxis = (v: string) => (v === '✓' ? 'on' : v === '✗' ? 'off' : v);
  const header = [
    'setting',
    ...t.columns.map((c) => (c === 'λ' ? 'lambda' : c.toLowerCase())),
    'runs',
    'expected_runs',
    'uar_mean',
    'uar_sd',
    'war_mean',
    'war_sd',
    ...t.classes.flatMap((c) => [`recall_${c}_mean`, `recall_${c}_sd`]),
    ...bins.flatMap((b) => [`recall_intensity_${binLabel(b)}_mean`, `recall_intensity_${binLabel(b)}_sd`]),
    ...['uar', 'war', ...bins.map((b) => `recall_intensity_${binLabel(b)}`)].flatMap((m) => [
      `${m}_diff`,
      `${m}_ci_low`,
      `${m}_ci_high`,
      `${m}_p`,
      `${m}_pairs`,
    ]),
  ];
  const lines = [header.map(csvCell).join(',')];
  for (const r of t.rows) {
    lines.push(
      [
        r.setting,
        ...t.columns.map((c) => plainAxis(r.values[c] ?? '')),
        r.runs,
        r.expected,
        r.uar.mean,
        r.uar.sd,
        r.war.mean,
        r.war.sd,
        ...r.perClass.flatMap((m) => [m.mean, m.sd]),
        ...bins.flatMap((_, k) => [r.byIntensity?.[k]?.recall.mean ?? NaN, r.byIntensity?.[k]?.recall.sd ?? NaN]),
        ...[r.vsBaseline?.uar, r.vsBaseline?.war, ...bins.map((_, k) => r.vsBaseline?.byIntensity?.[k])].flatMap((d) =>
          d ? [d.diff, d.ci?.[0] ?? NaN, d.ci?.[1] ?? NaN, d.p ?? NaN, d.pairs] : [NaN, NaN, NaN, NaN, NaN],
        ),
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return lines.join('\n') + '\n';
}

const finite = (v: number) => (Number.isFinite(v) ? v : null);

/** The table as JSON (results.json and `dfer ablate --json`): one entry per setting, with uar and war (fractions). */
export function ablationJson(t: AblationTable, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const plainAxis = (v: string) =>
    v === '✓' ? true : v === '✗' ? false : v === '-' ? null : /^-?[\d.]+$/.test(v) ? Number(v) : v;
  return {
    options: t.options,
    columns: t.columns,
    classes: t.classes,
    folds: t.folds,
    seeds: t.seeds,
    cells: t.rows.map((r) => ({
      setting: r.setting,
      values: Object.fromEntries(
        t.columns.map((c) => [c === 'λ' ? 'lambda' : c.toLowerCase(), plainAxis(r.values[c] ?? '')]),
      ),
      runs: r.runs,
      expected_runs: r.expected,
      uar: finite(r.uar.mean),
      war: finite(r.war.mean),
      uar_sd: finite(r.uar.sd),
      war_sd: finite(r.war.sd),
      per_class: Object.fromEntries(t.classes.map((c, k) => [c, finite(r.perClass[k]?.mean ?? NaN)])),
      ...(r.byIntensity
        ? {
            by_intensity: r.byIntensity.map((b) => ({
              lo: b.lo,
              hi: b.hi,
              clips: b.clips,
              recall: finite(b.recall.mean),
              recall_sd: finite(b.recall.sd),
              ...(b.toNeutral ? { to_neutral: finite(b.toNeutral.mean), to_neutral_sd: finite(b.toNeutral.sd) } : {}),
            })),
          }
        : {}),
      runs_detail: r.members.map((m) => ({ run: m.id, fold: m.fold, seed: m.seed, uar: m.uar, war: m.war })),
      ...(r.vsBaseline ? { vs_baseline: vsBaselineJson(r.vsBaseline) } : {}),
    })),
    ...extra,
  };
}

/** Writes results.md, results.csv and results.json into the grid's directory; returns their paths. */
export function writeTables(out: string, t: AblationTable): string[] {
  mkdirSync(out, { recursive: true });
  const files = { md: join(out, 'results.md'), csv: join(out, 'results.csv'), json: join(out, 'results.json') };
  writeFileAtomic(files.md, ablationMarkdown(t));
  writeFileAtomic(files.csv, ablationCsv(t));
  writeFileAtomic(files.json, JSON.stringify(ablationJson(t), null, 1) + '\n');
  return [files.md, files.csv, files.json];
}

/** results-intensity.svg (the PNG is written by writeIntensityFigure): recall and the share predicted neutral by bin. */
export function intensityFigure(t: AblationTable): string | null {
  const bins = t.rows.find((r) => r.byIntensity?.length)?.byIntensity;
  if (!bins) return null;
  const name = (r: SettingResult) =>
    t.columns.length ? t.columns.map((c) => `${c} ${r.values[c]}`).join(', ') : r.setting;
  const panel = (
    title: string,
    pick: (b: NonNullable<SettingResult['byIntensity']>[number]) => MeanSd | undefined,
  ) => ({
    title,
    series: t.rows.map((r) => ({
      name: name(r),
      values: bins.map((_, k) => (r.byIntensity?.[k] && pick(r.byIntensity[k]) ? pick(r.byIntensity[k])!.mean : NaN)),
      spread: bins.map((_, k) => (r.byIntensity?.[k] && pick(r.byIntensity[k]) ? pick(r.byIntensity[k])!.sd : NaN)),
    })),
  });
  const panels = [panel('recall', (b) => b.recall)];
  if (bins.some((b) => b.toNeutral)) panels.push(panel('predicted "neutral"', (b) => b.toNeutral));
  return intensitySvg(bins, panels, 'Test split by apex intensity (mean ± sd over runs)');
}

/** The intensity figure as results-intensity.svg and .png, when the data has intensities. */
/** Each setting's test confusion matrix summed over its finished runs (every clip of every fold and seed once), with
 * those runs' metrics; settings without finished runs (or with another class list) are left out. */
export function settingConfusions(
  plan: GridPlan,
  metrics: ReadonlyMap<string, Metrics>,
  classes: readonly string[],
): { setting: string; runs: Metrics[]; confusion: number[][] }[] {
  return plan.settings.flatMap((setting) => {
    const runs = plan.runs
      .filter((r) => r.setting === setting.name && metrics.has(r.id))
      .map((r) => metrics.get(r.id)!);
    if (!runs.length || runs.some((m) => m.confusion?.length !== classes.length)) return [];
    const confusion = classes.map((_, i) => classes.map((_, j) => runs.reduce((a, m) => a + m.confusion[i][j], 0)));
    return [{ setting: setting.name, runs, confusion }];
  });
}

/**
 * Each setting's confusion matrix on the test split, summed over its finished runs (every clip of every fold and seed
 * once), side by side: where the settings' errors differ, e.g. how many weak expressions each sends to "neutral".
 */
export function confusionFigure(
  plan: GridPlan,
  metrics: ReadonlyMap<string, Metrics>,
  classes: string[],
): string | null {
  const panels = settingConfusions(plan, metrics, classes).map(({ setting, runs, confusion }) =>
    confusionSvg(confusion, classes, {
      title: `${setting}: ${runs.length} run${runs.length > 1 ? 's' : ''}, UAR ${meanSdText(meanSd(runs.map((m) => m.uar)))}`,
    }),
  );
  if (panels.length < 2) return null;
  return sideBySideSvg(panels, 'Test-split confusion matrices per setting (summed over folds and seeds)');
}

export async function writeConfusionFigure(
  out: string,
  plan: GridPlan,
  metrics: ReadonlyMap<string, Metrics>,
  classes: string[],
): Promise<string[]> {
  const svg = confusionFigure(plan, metrics, classes);
  if (!svg) return [];
  const f = await writeSvgAndPng(svg, join(out, 'results-confusion'));
  return [f.svg, f.png];
}

export async function writeIntensityFigure(out: string, t: AblationTable): Promise<string[]> {
  const svg = intensityFigure(t);
  if (!svg) return [];
  const f = await writeSvgAndPng(svg, join(out, 'results-intensity'));
  return [f.svg, f.png];
}

export const ABLATE_DEFAULTS = { jobs: 1, folds: TRAIN_DEFAULTS.fold, seeds: String(TRAIN_DEFAULTS.seed) };
