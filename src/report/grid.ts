// An ablation grid read back from its directory (dfer ablate --out). The table dfer ablate wrote (results.json) names
// the grid: its settings with their axis values, its folds, seeds and baseline. From these the plan is rebuilt in the
// order dfer ablate runs it (seed, then fold, then setting), and the table is computed again from the runs' own results
// by the function dfer ablate uses (ablationTable): the same (fold, seed) pairs in the same order give the same seeded
// bootstrap intervals and sign-flip p-values, and runs that finished after the table was written are counted.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ablationTable, gridCells, readRunMetrics, type AblationTable, type GridPlan } from '../analysis/ablate.js';
import type { Metrics } from '../metrics/metrics.js';
import { RunDir } from '../train/run-dir.js';

/** The part of a grid's results.json (ablationJson) that names the grid. */
interface SavedTable {
  options: string[];
  columns: string[];
  classes: string[];
  folds: string[];
  seeds: number[];
  cells: { setting: string; values: Record<string, unknown>; vs_baseline?: { baseline: string } }[];
}

export interface Grid {
  dir: string;
  plan: GridPlan;
  table: AblationTable;
  /** The finished runs' test metrics, by run id (`<setting>/fold<k>-seed<s>`). */
  metrics: Map<string, Metrics>;
}

function readSavedTable(dir: string): SavedTable | null {
  const file = join(dir, 'results.json');
  if (!existsSync(file) || new RunDir(dir).isRun()) return null;
  try {
    const t = JSON.parse(readFileSync(file, 'utf8')) as SavedTable;
    const ok = Array.isArray(t.cells) && Array.isArray(t.columns) && Array.isArray(t.folds) && Array.isArray(t.seeds);
    return ok ? t : null;
  } catch {
    return null;
  }
}

/** Whether `dir` is a dfer ablate grid: it holds the table dfer ablate writes (results.json with its cells). */
export function isGridDir(dir: string): boolean {
  return readSavedTable(dir) !== null;
}

/** ablationJson's key of a column (GCA -> gca, λ -> lambda) and the table's text of a value (true -> ✓). */
const columnKey = (column: string) => (column === 'λ' ? 'lambda' : column.toLowerCase());
const displayValue = (v: unknown) => (v === true ? '✓' : v === false ? '✗' : v === null ? '-' : String(v));

/** The grid's plan, its finished runs' metrics and its table, recomputed as dfer ablate computes it; null: no grid. */
export function readGrid(dir: string): Grid | null {
  const saved = readSavedTable(dir);
  if (!saved) return null;
  const settings = saved.cells.map((cell) => ({
    name: cell.setting,
    values: Object.fromEntries(saved.columns.map((c) => [c, displayValue(cell.values[columnKey(c)])])),
    settings: {},
  }));
  const runs = gridCells(dir, settings, saved.folds, saved.seeds).map(({ setting, fold, seed, id, dir: runDir }) => ({
    id,
    setting: setting.name,
    fold,
    seed,
    dir: runDir,
    settings: {},
    args: [],
  }));
  const plan: GridPlan = {
    out: dir,
    base: {},
    implicit: [],
    columns: saved.columns,
    settings,
    folds: saved.folds,
    seeds: saved.seeds,
    runs,
  };
  const metrics = new Map(
    runs.filter((r) => new RunDir(r.dir).hasResults()).map((r) => [r.id, readRunMetrics(r.dir)] as const),
  );
  const baseline = saved.cells.find((c) => c.vs_baseline)?.vs_baseline?.baseline;
  const table = { ...ablationTable(plan, metrics, saved.classes, baseline), options: saved.options };
  return { dir, plan, table, metrics };
}
