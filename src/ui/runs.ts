// dfer runs' output: one line per run (the settings that tell the listed runs apart as columns), as text, JSON or CSV.
import { differingSettings, type RunRow } from '../train/runs-index.js';
import { duration, pct2 } from './metrics-text.js';
import type { View } from './output.js';
import { table } from './table.js';

const pctOrDash = (v: number | null) => (v === null ? '-' : pct2(v));
const shortKey = (k: string) => k.replace(/^(model|loss|optimizer|schedule|sampling)\./, '');

export function runsView(rows: readonly RunRow[], roots: readonly string[]): View {
  const differ = differingSettings(rows).filter((k) => k !== 'preset');
  const header = [
    'run',
    'state',
    'set',
    'fold',
    'seed',
    'preset',
    ...differ.map(shortKey),
    'epochs',
    'val UAR',
    'test UAR',
    'test WAR',
    'age',
  ];
  const body = rows.map((r) => [
    r.path,
    r.state,
    r.set,
    r.fold,
    String(r.seed),
    r.preset,
    ...differ.map((k) => String(r.settings[k] ?? '-')),
    `${r.epochsDone}/${r.epochsPlanned}`,
    pctOrDash(r.bestValUar),
    pctOrDash(r.testUar),
    pctOrDash(r.testWar),
    duration(r.ageSeconds),
  ]);
  const counts = ['running', 'finished', 'interrupted', 'failed']
    .map((s) => [s, rows.filter((r) => r.state === s).length] as const)
    .filter(([, n]) => n);
  const text = rows.length
    ? [
        ...table(header, body),
        '',
        `${rows.length} run${rows.length > 1 ? 's' : ''}: ${counts.map(([s, n]) => `${n} ${s}`).join(', ')}${differ.length ? `; they differ in ${differ.join(', ')}` : ''}`,
      ]
    : [`no runs under ${roots.join(', ')}`];
  return { json: { roots, differing: differ, runs: rows.map(runJson) }, text };
}

function runJson(r: RunRow) {
  return {
    path: r.path,
    ...(r.grid ? { grid: r.grid } : {}),
    state: r.state,
    set: r.set,
    fold: r.fold,
    seed: r.seed,
    preset: r.preset,
    epochs_done: r.epochsDone,
    epochs_planned: r.epochsPlanned,
    best_val_uar: r.bestValUar,
    test_uar: r.testUar,
    test_war: r.testWar,
    age_seconds: Math.round(r.ageSeconds),
    settings: r.settings,
  };
}

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The same rows as CSV (fractions, not percentages; every differing setting a column). */
export function runsCsv(rows: readonly RunRow[]): string {
  const differ = differingSettings(rows);
  const header = [
    'path',
    'state',
    'set',
    'fold',
    'seed',
    'preset',
    ...differ,
    'epochs_done',
    'epochs_planned',
    'best_val_uar',
    'test_uar',
    'test_war',
    'age_seconds',
  ];
  const lines = rows.map((r) =>
    [
      r.path,
      r.state,
      r.set,
      r.fold,
      r.seed,
      r.preset,
      ...differ.map((k) => r.settings[k]),
      r.epochsDone,
      r.epochsPlanned,
      r.bestValUar,
      r.testUar,
      r.testWar,
      Math.round(r.ageSeconds),
    ]
      .map(csvCell)
      .join(','),
  );
  return [header.join(','), ...lines].join('\n') + '\n';
}
