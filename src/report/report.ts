// `dfer report`: runs and ablation grids side by side in one self-contained HTML file, read top to bottom as
//   gather  the folders given -> runs (config, curves, test results, t-SNE maps) and grids (their tables), gather.ts
//   page    -> the Vega-Lite specs (specs.ts) laid out in sections with the tables, as one HTML string (html.ts)
//   write   -> the file, atomically (a reader never opens half a report)
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../atomic.js';
import { gatherReport, ReportError } from './gather.js';
import { reportPage } from './html.js';

export interface ReportOptions {
  /** Run directories, dfer ablate grids, or folders holding them. */
  paths: string[];
  /** The HTML file to write. */
  out: string;
  title?: string;
}

export interface ReportResult {
  out: string;
  /** file:// URL of the report, to open it. */
  url: string;
  bytes: number;
  title: string;
  runs: { path: string; label: string; finished: boolean }[];
  grids: { path: string; settings: number; runs: number }[];
  /** The charts, by title. */
  charts: string[];
  notes: string[];
}

export function writeReport(o: ReportOptions): ReportResult {
  checkOut(o.out);
  const data = gatherReport(o.paths, { title: o.title });
  const { html, charts } = reportPage(data);
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileAtomic(o.out, html);
  return {
    out: o.out,
    url: pathToFileURL(resolve(o.out)).href,
    bytes: Buffer.byteLength(html),
    title: data.title,
    runs: data.runs.map((r) => ({ path: r.dir, label: r.label, finished: r.results !== null })),
    grids: data.grids.map((g) => ({ path: g.dir, settings: g.plan.settings.length, runs: g.runs.length })),
    charts: charts.map((c) => c.title),
    notes: data.notes,
  };
}

/** Before reading anything: the output must be a file name (not a folder), and not ending like another format. */
function checkOut(out: string): void {
  let isDir = false;
  try {
    isDir = statSync(out).isDirectory();
  } catch {
    // not there yet: to be written
  }
  if (isDir)
    throw new ReportError(`-o ${out}: a folder; give the file to write, e.g. -o ${out.replace(/\/$/, '')}/report.html`);
  if (!/\.html?$/i.test(out))
    throw new ReportError(`-o ${out}: the report is an HTML file; name it .html, e.g. -o report.html`);
}
