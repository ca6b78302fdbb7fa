// `dfer runs`: every run directory under some folders, one row each, read through the run-directory owner (RunDir):
// where it is, its data and fold, its preset, the settings that differ between the listed runs, epochs done of
// planned, the best validation UAR, the test UAR/WAR, its state and its age. A running run is recognised by the live
// holder of its lock (src/lock.ts); an interrupted one has a checkpoint and no results; a failed one has neither (it
// died before its first checkpoint).
import { readdirSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { createConfig, PRESETS, type ModelConfig } from '../config.js';
import { DferError } from '../errors.js';
import { lockHolder } from '../lock.js';
import { RUN_FILES, RunDir } from './run-dir.js';

export class RunsError extends DferError {}

export type RunListState = 'running' | 'finished' | 'interrupted' | 'failed';

export interface RunRow {
  /** The run directory as given or found (relative to the current directory when below it). */
  path: string;
  /** The grid it belongs to (dfer ablate's <out>), when it is one of a grid's runs. */
  grid?: string;
  /** The prepared set's folder name. */
  set: string;
  fold: string;
  preset: string;
  seed: number;
  /** Every training setting, flattened (model.attention, loss.ial, optimizer.lr, ...): what --where and the diff read. */
  settings: Record<string, string | number | boolean>;
  epochsDone: number;
  epochsPlanned: number;
  bestValUar: number | null;
  testUar: number | null;
  testWar: number | null;
  state: RunListState;
  /** Seconds since the run last wrote anything. */
  ageSeconds: number;
}

/** The preset a model configuration was made from (the presets' own sizes), or "custom". */
export function presetOf(model: Partial<ModelConfig>): string {
  for (const name of Object.keys(PRESETS)) {
    const p = createConfig(name);
    if (
      p.imageSize === model.imageSize &&
      p.stemWidth === model.stemWidth &&
      p.dynamicDepth === model.dynamicDepth &&
      p.patchDim === model.patchDim
    )
      return name;
  }
  return 'custom';
}

// Settings that are not choices of the experiment (paths, sizes of evaluation batches) or repeat another one.
const NOT_COMPARED = new Set([
  'data',
  'fold',
  'seed',
  'evalBatchSize',
  'saveEvery',
  'model.classes',
  'model.numClasses',
  'schedule.baseLr',
  'schedule.epochs',
]);

function flatten(o: Record<string, unknown>, prefix = '', out: Record<string, string | number | boolean> = {}) {
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out);
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key] = v;
  }
  return out;
}

/** Run directories at or below `root` (a run's own folders are not searched: a run holds no runs). */
function findRuns(root: string, depth = 6): string[] {
  if (new RunDir(root).isRun()) return [root];
  if (depth === 0) return [];
  let entries: string[];
  try {
    entries = readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'slurm' && d.name !== 'node_modules')
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
  return entries.flatMap((name) => findRuns(join(root, name), depth - 1));
}

const mtime = (path: string) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
};

/** One run directory's row. */
export function runRow(dir: string, now = Date.now()): RunRow {
  const run = new RunDir(dir);
  const config = run.readConfig();
  const t = config.train as unknown as Record<string, unknown> & {
    model: ModelConfig;
    fold: string;
    seed: number;
    epochs: number;
  };
  const epochs = run.readMetrics().filter((l) => l.type === 'epoch') as { epoch: number; val?: { uar: number } }[];
  const vals = epochs.map((l) => l.val?.uar).filter((v): v is number => typeof v === 'number');
  const results = run.hasResults() ? run.readResults().metrics : null;
  const state: RunListState = lockHolder(dir)
    ? 'running'
    : results
      ? 'finished'
      : run.hasCheckpoint('last')
        ? 'interrupted'
        : 'failed';
  const settings = flatten(t);
  settings.preset = presetOf(t.model);
  const grid = basename(resolve(dir, '..', '..')).startsWith('ablate') ? resolve(dir, '..', '..') : undefined;
  const last = Math.max(...Object.values(RUN_FILES).map((f) => mtime(join(dir, f))), mtime(dir));
  return {
    path: dir,
    ...(grid ? { grid } : {}),
    set: basename(String(config.data ?? t.data)),
    fold: String(t.fold),
    preset: String(settings.preset),
    seed: t.seed,
    settings,
    epochsDone: epochs.at(-1)?.epoch ?? 0,
    epochsPlanned: t.epochs,
    bestValUar: vals.length ? Math.max(...vals) : null,
    testUar: results?.uar ?? null,
    testWar: results?.war ?? null,
    state,
    ageSeconds: Math.max(0, (now - last) / 1000),
  };
}

/** Every run under the folders (each a run or a folder of runs and grids), each once. */
export function indexRuns(roots: readonly string[], now = Date.now()): RunRow[] {
  const seen = new Set<string>();
  const rows: RunRow[] = [];
  for (const root of roots) {
    const dirs = findRuns(root);
    if (!dirs.length && !new RunDir(root).isRun()) {
      try {
        statSync(root);
      } catch {
        throw new RunsError(`${root}: no such folder; give run directories or folders that hold them`);
      }
    }
    for (const dir of dirs) {
      const key = resolve(dir);
      if (seen.has(key)) continue;
      seen.add(key);
      const shown = relative(process.cwd(), key);
      rows.push(runRow(shown && !shown.startsWith('..') ? shown : key, now));
    }
  }
  return rows;
}

/** The settings whose values differ between the rows (what tells the runs apart), in a stable order. */
export function differingSettings(rows: readonly RunRow[]): string[] {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.settings)))].filter((k) => !NOT_COMPARED.has(k)).sort();
  return keys.filter((k) => new Set(rows.map((r) => String(r.settings[k] ?? ''))).size > 1);
}

/** The fields --sort accepts: numbers sort best first (descending), text ascending. */
export const SORT_FIELDS = ['test_uar', 'test_war', 'val_uar', 'age', 'path', 'fold', 'state', 'epochs'] as const;
export type SortField = (typeof SORT_FIELDS)[number];

export function sortRows(rows: RunRow[], field: SortField): RunRow[] {
  const num = (r: RunRow): number | null =>
    field === 'test_uar'
      ? r.testUar
      : field === 'test_war'
        ? r.testWar
        : field === 'val_uar'
          ? r.bestValUar
          : field === 'age'
            ? -r.ageSeconds
            : field === 'epochs'
              ? r.epochsDone
              : null;
  const text = (r: RunRow) => (field === 'fold' ? r.fold : field === 'state' ? r.state : r.path);
  return [...rows].sort((a, b) => {
    if (['path', 'fold', 'state'].includes(field)) return text(a).localeCompare(text(b), undefined, { numeric: true });
    const x = num(a);
    const y = num(b);
    if (x === null || y === null) return x === null ? (y === null ? 0 : 1) : -1; // runs without the number last
    return y - x;
  });
}

/**
 * `--where key=value` filters: a key is a row field (state, set, fold, preset, seed) or a flattened setting
 * (model.attention, loss.ial, optimizer.lr, or its last part when that is unambiguous: attention, ial, lr).
 */
export function filterRows(rows: RunRow[], where: readonly string[]): RunRow[] {
  let out = rows;
  for (const w of where) {
    const eq = w.indexOf('=');
    if (eq <= 0)
      throw new RunsError(`--where ${w}: expected key=value, e.g. --where preset=small or --where loss.ial=true`);
    const key = w.slice(0, eq).trim();
    const value = w.slice(eq + 1).trim();
    const pick = (r: RunRow): unknown => {
      const fields: Record<string, unknown> = {
        state: r.state,
        set: r.set,
        fold: r.fold,
        preset: r.preset,
        seed: r.seed,
        grid: r.grid,
      };
      if (key in fields) return fields[key];
      if (key in r.settings) return r.settings[key];
      const matches = Object.keys(r.settings).filter((k) => k.endsWith(`.${key}`));
      if (matches.length > 1)
        throw new RunsError(`--where ${w}: "${key}" is ambiguous (${matches.join(', ')}); name it whole`);
      return matches.length ? r.settings[matches[0]] : undefined;
    };
    if (rows.length && rows.every((r) => pick(r) === undefined))
      throw new RunsError(`--where ${w}: no run has a setting "${key}"`);
    out = out.filter((r) => String(pick(r)) === value);
  }
  return out;
}

/** What dfer runs' detail and comparison views show of one run, read when it is opened. */
export interface RunDetail {
  row: RunRow;
  classes: string[];
  /** Validation UAR after each epoch (the curve), and the training loss. */
  valUar: number[];
  trainLoss: number[];
  /** Test recall per class and the confusion matrix, when finished. */
  testRecall: number[] | null;
  confusion: number[][] | null;
  /** Recall by apex-intensity bin, when the data knows intensity. */
  byIntensity: { lo: number; hi: number; recall: number }[] | null;
}

export function runDetail(row: RunRow): RunDetail {
  const run = new RunDir(row.path);
  const epochs = run.readMetrics().filter((l) => l.type === 'epoch') as {
    val?: { uar: number };
    trainLoss?: { total: number };
  }[];
  const results = run.hasResults() ? run.readResults().metrics : null;
  return {
    row,
    classes: run.readConfig().train.model.classes ?? [],
    valUar: epochs.map((l) => l.val?.uar).filter((v): v is number => typeof v === 'number'),
    trainLoss: epochs.map((l) => l.trainLoss?.total).filter((v): v is number => typeof v === 'number'),
    testRecall: results?.perClass ?? null,
    confusion: results?.confusion ?? null,
    byIntensity: results?.byIntensity?.map((b) => ({ lo: b.lo, hi: b.hi, recall: b.recall })) ?? null,
  };
}

/** The settings two runs differ in (flattened names), with both values. */
export function settingsDiff(a: RunRow, b: RunRow): { key: string; a: unknown; b: unknown }[] {
  const keys = [...new Set([...Object.keys(a.settings), ...Object.keys(b.settings)])]
    .filter((k) => k !== 'data')
    .sort();
  return keys
    .filter((k) => a.settings[k] !== b.settings[k])
    .map((k) => ({ key: k, a: a.settings[k], b: b.settings[k] }));
}
