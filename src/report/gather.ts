// What `dfer report` shows, read from the folders given: each a run directory, a dfer ablate grid, or a folder that
// holds runs and grids (a workspace's runs/). Runs are read through their owner (RunDir) and dfer runs' row (runRow);
// grids through src/report/grid.ts. Nothing here draws: src/report/specs.ts turns this into charts.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { tsneName } from '../analysis/features.js';
import { DferError, EXIT } from '../errors.js';
import { Rng } from '../random.js';
import { RUN_FILES, RunDir, type RunConfig, type RunResults } from '../train/run-dir.js';
import { differingSettings, indexRuns, runRow, type RunRow } from '../train/runs-index.js';
import { type Grid, isGridDir, readGrid } from './grid.js';

export class ReportError extends DferError {}

/** No runs or grids named at all: a usage error (exit 2), with what to give. */
export class NothingToReportError extends ReportError {
  override readonly exitCode = EXIT.usage;
}

/** A t-SNE map above this many points is drawn from a seeded random subset of them (the page stays light). */
export const MAX_TSNE_POINTS = 20_000;

export interface ReportRun {
  /** Its path below the folder all the report's runs share: unique, and short. */
  label: string;
  dir: string;
  /** What colours it in the charts: its setting when it is one of a grid's runs, else the run itself. */
  group: string;
  /** The label of its grid, and its setting there, when it is one of a grid's runs. */
  grid?: string;
  setting?: string;
  row: RunRow;
  config: RunConfig;
  classes: string[];
  /** metrics.jsonl's epoch lines: every number each records (loss parts, validation UAR/WAR, learning rate). */
  epochs: EpochPoint[];
  /** The test results of its selected checkpoint; null while unfinished. */
  results: RunResults | null;
  tsne: TsneMap[];
}

export interface EpochPoint {
  epoch: number;
  /** Readable name (val UAR, train loss, learning rate, ...) -> value. */
  values: Record<string, number>;
}

export interface TsnePoint {
  id: string;
  label: string;
  /** The run's test prediction of the clip, when the map is of its own test split. */
  predicted?: string;
  intensity?: number;
  x: number;
  y: number;
}

export interface TsneMap {
  /** The CSV dfer tsne wrote, and which map of it (ours, or the --compare baseline). */
  file: string;
  map: string;
  points: TsnePoint[];
  /** Points in the file (more than `points` when subsampled). */
  total: number;
}

export interface ReportGrid extends Grid {
  label: string;
  /** Each setting's group: what colours its runs in the charts (its name, after the grid's with several grids). */
  groups: Map<string, string>;
  /** Its runs found on disk (finished or not), setting by setting. */
  runs: ReportRun[];
}

export interface ReportData {
  title: string;
  inputs: string[];
  /** Every run, the grids' first (setting by setting), then the others in the order found. */
  runs: ReportRun[];
  grids: ReportGrid[];
  /** The settings whose values differ between the runs (dfer runs' columns). */
  differing: string[];
  /** What the reader should know about what is left out (unfinished runs, unreadable t-SNE tables). */
  notes: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// The folders given

const WHAT_TO_GIVE = 'give run directories (with config.json), dfer ablate --out folders, or a folder that holds them';

/** The grid directories and the other run directories among (and below) the paths, each once. */
export function findInputs(paths: readonly string[]): { gridDirs: string[]; runDirs: string[] } {
  if (!paths.length)
    throw new NothingToReportError(
      `no runs or grids given: ${WHAT_TO_GIVE}, e.g. dfer report runs/dfew -o report.html`,
    );
  const gridDirs: string[] = [];
  const runDirs: string[] = [];
  const add = (list: string[], dir: string) => {
    if (![...gridDirs, ...runDirs].some((d) => resolve(d) === resolve(dir))) list.push(dir);
  };
  for (const path of paths) {
    if (!existsSync(path)) throw new ReportError(`${path}: no such file or directory; ${WHAT_TO_GIVE}`);
    if (new RunDir(path).isRun()) add(runDirs, path);
    else if (isGridDir(path)) add(gridDirs, path);
    else {
      const found = statSync(path).isDirectory() ? indexRuns([path]).map((r) => r.path) : [];
      if (!found.length)
        throw new ReportError(
          `${path}: neither a run directory (config.json) nor a dfer ablate grid (results.json), and no runs below it; ${WHAT_TO_GIVE}`,
        );
      for (const dir of found) {
        const grid = resolve(dir, '..', '..');
        if (isGridDir(grid)) add(gridDirs, shown(grid));
        else add(runDirs, dir);
      }
    }
  }
  // A run given by itself that is one of a grid's belongs to the grid.
  const inGrid = (dir: string) => gridDirs.some((g) => resolve(dir).startsWith(resolve(g) + sep));
  return { gridDirs, runDirs: runDirs.filter((d) => !inGrid(d)) };
}

/** A path as indexRuns shows it: relative to the current directory when below it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** Each path below the folder all of them share (a lone path: its own name). */
function shortLabels(paths: readonly string[]): string[] {
  if (paths.length < 2) return paths.map((p) => basename(resolve(p)));
  const parts = paths.map((p) => resolve(p).split(sep));
  let common = 0;
  while (parts.every((p) => common < p.length - 1 && p[common] === parts[0][common])) common++;
  return parts.map((p) => p.slice(common).join('/'));
}

// ---------------------------------------------------------------------------------------------------------------
// Everything the report shows

export function gatherReport(paths: readonly string[], o: { title?: string } = {}): ReportData {
  const { gridDirs, runDirs } = findInputs(paths);
  const grids = gridDirs.map((dir) => readGrid(dir)!);
  // A grid's runs found on disk, setting by setting; every run labelled by its path below the folder all share.
  const members = grids.map((g) =>
    g.plan.settings.flatMap((s) => g.plan.runs.filter((r) => r.setting === s.name && new RunDir(r.dir).isRun())),
  );
  const dirs = [...members.flat().map((r) => r.dir), ...runDirs];
  const short = shortLabels(dirs);
  const labelOf = new Map(dirs.map((d, i) => [d, short[i]]));
  const gridLabels = shortLabels(gridDirs);
  const notes: string[] = [];

  const reportGrids: ReportGrid[] = grids.map((grid, g) => {
    const label = gridLabels[g];
    const groups = new Map(grid.plan.settings.map((s) => [s.name, grids.length > 1 ? `${label}: ${s.name}` : s.name]));
    const runs = members[g].map((r) =>
      readRun(
        r.dir,
        { label: labelOf.get(r.dir)!, group: groups.get(r.setting)!, grid: label, setting: r.setting },
        notes,
      ),
    );
    return { ...grid, label, groups, runs };
  });
  const others = runDirs.map((d) => readRun(d, { label: labelOf.get(d)!, group: labelOf.get(d)! }, notes));
  const runs = [...reportGrids.flatMap((g) => g.runs), ...others];
  return {
    title: o.title ?? defaultTitle(reportGrids, runs),
    inputs: [...paths],
    runs,
    grids: reportGrids,
    differing: differingSettings(runs.map((r) => r.row)),
    notes: [...unfinishedNote(runs), ...notes],
  };
}

function unfinishedNote(runs: readonly ReportRun[]): string[] {
  const unfinished = runs.filter((r) => !r.results);
  if (!unfinished.length) return [];
  const named = unfinished.slice(0, 3).map((r) => r.label);
  return [
    `${unfinished.length} run${unfinished.length > 1 ? 's have' : ' has'} no test results yet (${named.join(', ')}${unfinished.length > 3 ? ', ...' : ''}): curves only.`,
  ];
}

function defaultTitle(grids: readonly ReportGrid[], runs: readonly ReportRun[]): string {
  if (grids.length === 1 && runs.length === grids[0].runs.length) return `Ablation ${grids[0].label}`;
  return runs.length === 1 ? `Run ${runs[0].label}` : `${runs.length} runs`;
}

/** Where a run stands in the report: its label, group, and grid and setting when it is one of a grid's. */
type RunPlace = Pick<ReportRun, 'label' | 'group' | 'grid' | 'setting'>;

function readRun(dir: string, place: RunPlace, notes: string[]): ReportRun {
  const run = new RunDir(dir);
  const config = run.readConfig();
  const row = runRow(dir);
  return {
    ...place,
    dir,
    row,
    config,
    classes: config.train.model.classes ?? [],
    epochs: readEpochs(run),
    results: run.hasResults() ? run.readResults() : null,
    tsne: readTsneMaps(run, row.fold, notes),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Curves: metrics.jsonl's epoch lines

/** The trainer's names of an epoch line's numbers, as the charts call them (in this order; others follow). */
const CURVE_NAMES: Record<string, string> = {
  'val.uar': 'val UAR',
  'val.war': 'val WAR',
  'trainLoss.total': 'train loss',
  'trainLoss.ce': 'train CE',
  'trainLoss.ial': 'train IAL',
  'trainLoss.aux': 'train aux',
  lr: 'learning rate',
};
export const CURVE_ORDER = Object.values(CURVE_NAMES);

/** Every finite number of an object, flattened to dotted keys (arrays, like val.perClass, left out). */
function numbersOf(o: Record<string, unknown>, prefix = '', out: Record<string, number> = {}): Record<string, number> {
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'number' && Number.isFinite(v)) out[key] = v;
    else if (v && typeof v === 'object' && !Array.isArray(v)) numbersOf(v as Record<string, unknown>, key, out);
  }
  return out;
}

function readEpochs(run: RunDir): EpochPoint[] {
  return run
    .readMetrics()
    .filter((l) => l.type === 'epoch')
    .map((line) => {
      const { type: _t, epoch, globalStep: _g, ...rest } = line;
      const values = Object.fromEntries(
        Object.entries(numbersOf(rest)).map(([key, v]) => [CURVE_NAMES[key] ?? key, v] as const),
      );
      return { epoch, values };
    });
}

// ---------------------------------------------------------------------------------------------------------------
// t-SNE maps: the CSVs dfer tsne writes into a run directory (tsne-fold<k>-<split>.csv: id, class, label, intensity,
// then x, y of each map), with the run's test predictions joined by clip id when the map is of its own test split

function readTsneMaps(run: RunDir, fold: string, notes: string[]): TsneMap[] {
  const files = readdirSync(run.dir)
    .filter((f) => /^tsne.*\.csv$/.test(f))
    .sort();
  return files.flatMap((name) => {
    const file = join(run.dir, name);
    let rows: Record<string, string>[];
    try {
      rows = parseCsv(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, bom: true });
    } catch (err) {
      notes.push(`${file}: not readable as CSV (${(err as Error).message.split('\n')[0]}); left out`);
      return [];
    }
    const maps = rows.length ? mapNames(Object.keys(rows[0])) : [];
    if (!maps.length || !('id' in rows[0]) || !('class' in rows[0])) {
      notes.push(`${file}: not a dfer tsne table (id, class, x, y); left out`);
      return [];
    }
    const predictions = name === `${tsneName(fold, 'test')}.csv` ? readPredictions(run) : new Map<string, string>();
    return maps.map(({ map, x, y }) => {
      const all = rows.map((r) => tsnePoint(r, x, y, map === 'ours' ? predictions.get(r.id) : undefined));
      return { file, map, points: subsample(all, MAX_TSNE_POINTS), total: all.length };
    });
  });
}

/** The maps of a dfer tsne CSV: x, y (ours) and <name>_x, <name>_y (a --compare baseline). */
function mapNames(columns: string[]): { map: string; x: string; y: string }[] {
  return columns
    .filter((c) => c === 'x' || c.endsWith('_x'))
    .map((x) => ({ x, y: x.replace(/x$/, 'y'), map: x === 'x' ? 'ours' : x.slice(0, -2) }))
    .filter((m) => columns.includes(m.y));
}

function tsnePoint(r: Record<string, string>, x: string, y: string, predicted: string | undefined): TsnePoint {
  return {
    id: r.id,
    label: r.class,
    ...(predicted !== undefined ? { predicted } : {}),
    ...(r.intensity !== undefined && r.intensity !== '' ? { intensity: Number(r.intensity) } : {}),
    x: Number(r[x]),
    y: Number(r[y]),
  };
}

function readPredictions(run: RunDir): Map<string, string> {
  const file = join(run.dir, RUN_FILES.predictions);
  if (!existsSync(file)) return new Map();
  const rows: Record<string, string>[] = parseCsv(readFileSync(file, 'utf8'), {
    columns: true,
    skip_empty_lines: true,
  });
  return new Map(rows.map((r) => [r.id, r.predicted]));
}

/** At most `max` of the items, a seeded random subset in their own order. */
function subsample<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  const keep = new Set(new Rng(1).shuffle(items.map((_, i) => i)).slice(0, max));
  return items.filter((_, i) => keep.has(i));
}
