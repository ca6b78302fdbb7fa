// The report as one HTML file that opens anywhere, from an e-mail too (file://): Vega, Vega-Lite and vega-embed
// inlined, every chart's spec and numbers in a JSON block, no request at view time (a Content-Security-Policy forbids
// any). The page follows the reader's light or dark scheme (CSS variables; the charts are embedded again with
// vega-embed's dark theme when the scheme changes) and prints on white, without controls, no chart cut across pages.
import { readFileSync } from 'node:fs';
import { overText, tableCells, type AblationTable } from '../analysis/ablate.js';
import { packageFile } from '../package-files.js';
import { VERSION } from '../version.js';
import type { ReportData, ReportGrid, ReportRun } from './gather.js';
import {
  confusionChart,
  curvesChart,
  gridDiffChart,
  gridRunsChart,
  recallByClassChart,
  recallByIntensityChart,
  tsneChart,
  type ReportChart,
} from './specs.js';

export interface ReportPage {
  html: string;
  charts: ReportChart[];
}

export function reportPage(data: ReportData, created = new Date()): ReportPage {
  const sections = [
    ...data.grids.map((g, i) => ablationSection(g, data, i)),
    chartSection('curves', 'Training', [curvesChart(data)]),
    chartSection('confusion', 'Confusion', [confusionChart(data)]),
    chartSection('recall', 'Recall', [recallByClassChart(data), recallByIntensityChart(data)]),
    chartSection('tsne', 't-SNE maps', tsneCharts(data), { sideBySide: true }),
    runsSection(data),
  ].filter((s): s is Section => s !== null);
  const charts = sections.flatMap((s) => s.charts);
  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Nothing is fetched, ever: scripts and styles are inline, images are data: or blob: URLs (vega-embed's export).
    // (Vega compiles its expressions with Function, hence unsafe-eval.)
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:">`,
    '<meta name="color-scheme" content="light dark">',
    `<meta name="generator" content="dfer ${VERSION}">`,
    `<title>${esc(data.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    header(data, created),
    `<nav>${sections.map((s) => `<a href="#${s.id}">${esc(s.title)}</a>`).join('')}</nav>`,
    '<main>',
    ...sections.map((s) => `<section id="${s.id}"><h2>${esc(s.title)}</h2>${s.body}</section>`),
    '</main>',
    `<footer>Made with dfer ${VERSION} <code>dfer report</code> on ${esc(created.toISOString().slice(0, 16).replace('T', ' '))} UTC. Charts: Vega-Lite (every chart's menu exports it as SVG or PNG).</footer>`,
    jsonBlock(
      'dfer-report-charts',
      charts.map(({ id, spec }) => ({ id, spec })),
    ),
    ...VEGA_LIBRARIES.map((lib) => scriptBlock(libraryText(lib))),
    scriptBlock(PAGE_SCRIPT),
    '</body>',
    '</html>',
    '',
  ].join('\n');
  return { html, charts };
}

// ---------------------------------------------------------------------------------------------------------------
// Sections

interface Section {
  id: string;
  title: string;
  body: string;
  charts: ReportChart[];
}

function header(data: ReportData, created: Date): string {
  const finished = data.runs.filter((r) => r.results).length;
  const counts = [
    `${data.runs.length} run${data.runs.length === 1 ? '' : 's'} (${finished} finished)`,
    ...(data.grids.length ? [`${data.grids.length} ablation grid${data.grids.length > 1 ? 's' : ''}`] : []),
  ];
  const notes = data.notes.length
    ? `<ul class="notes">${data.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`
    : '';
  return `<header><h1>${esc(data.title)}</h1><p class="muted">${counts.join(' · ')} · from ${data.inputs.map((p) => `<code>${esc(p)}</code>`).join(', ')} · ${esc(created.toISOString().slice(0, 10))}</p>${notes}</header>`;
}

function figure(chart: ReportChart): string {
  return `<figure><figcaption><h3>${esc(chart.title)}</h3><p>${esc(chart.caption)}</p></figcaption><div class="chart" id="${chart.id}"></div></figure>`;
}

function chartSection(
  id: string,
  title: string,
  maybe: (ReportChart | null)[],
  o: { sideBySide?: boolean } = {},
): Section | null {
  const charts = maybe.filter((c): c is ReportChart => c !== null);
  if (!charts.length) return null;
  const figures = charts.map(figure).join('');
  return { id, title, body: o.sideBySide ? sideBySide(figures) : figures, charts };
}

const sideBySide = (figures: string) => `<div class="side-by-side">${figures}</div>`;

function ablationSection(g: ReportGrid, data: ReportData, index: number): Section {
  const charts = [gridRunsChart(g, data, index), gridDiffChart(g, data, index)].filter(
    (c): c is ReportChart => c !== null,
  );
  const compared = g.table.rows.find((r) => r.vsBaseline);
  const method = compared
    ? `Δ: the mean paired difference from ${esc(compared.vsBaseline!.baseline)} in points over the (fold, seed) pairs both finished; 95% CI: percentile bootstrap over the pairs; p: exact paired sign-flip test (two-sided).`
    : '';
  const options = g.table.options.length
    ? `<p class="muted">Every run: <code>dfer train ${esc(g.table.options.join(' '))}</code> with the setting's flags, --fold and --seed.</p>`
    : '';
  const body = [
    `<p>Test-split UAR and WAR (%), ${esc(overText(g.table))}. <span class="muted">${method}</span></p>`,
    ablationTable(g.table),
    options,
    sideBySide(charts.map(figure).join('')),
  ].join('');
  return { id: `ablation-${index}`, title: `Ablation: ${g.label}`, body, charts };
}

/** The grid's table, cell for cell as dfer ablate prints it (results.md). */
function ablationTable(t: AblationTable): string {
  const { header, rows } = tableCells(t);
  return htmlTable(header, rows, t.columns.length || 1);
}

function tsneCharts(data: ReportData): ReportChart[] {
  let n = 0;
  return data.runs.flatMap((run) => run.tsne.map((map) => tsneChart(run, map, `chart-tsne-${n++}`)));
}

// ---------------------------------------------------------------------------------------------------------------
// The runs: results, settings and provenance

const pct2 = (v: number | null) => (v === null || !Number.isFinite(v) ? '–' : (100 * v).toFixed(2));
const shortKey = (k: string) => k.replace(/^(model|loss|optimizer|schedule|sampling)\./, '');

function runsSection(data: ReportData): Section {
  const grids = data.grids.length > 0;
  const header = [
    'run',
    ...(grids ? ['setting'] : []),
    'state',
    'fold',
    'seed',
    ...data.differing.map(shortKey),
    'epochs',
    'best val UAR',
    'test UAR',
    'test WAR',
  ];
  const rows = data.runs.map((r) => [
    r.label,
    ...(grids ? [r.grid ? r.group : ''] : []),
    r.row.state,
    r.row.fold,
    String(r.row.seed),
    ...data.differing.map((k) => String(r.row.settings[k] ?? '–')),
    `${r.row.epochsDone}/${r.row.epochsPlanned}`,
    pct2(r.row.bestValUar),
    pct2(r.row.testUar),
    pct2(r.row.testWar),
  ]);
  const shared = sharedSettings(data.runs);
  const body = [
    '<p class="muted">UAR and WAR in %. The settings that differ between the runs are columns; those every run shares follow.</p>',
    htmlTable(header, rows, header.length - 4),
    `<h3>Settings every run shares</h3>${definitions(shared)}`,
    provenance(data.runs),
    `<details><summary>config.json of every run</summary>${data.runs
      .map((r) => `<h4>${esc(r.label)}</h4><pre>${esc(JSON.stringify(r.config, null, 1))}</pre>`)
      .join('')}</details>`,
  ].join('');
  return { id: 'runs', title: 'Runs and provenance', body, charts: [] };
}

/** The settings whose value is the same in every run (fold and seed too, unlike dfer runs' columns). */
function sharedSettings(runs: readonly ReportRun[]): [string, string][] {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.row.settings)))].sort();
  const value = (r: ReportRun, k: string) => String(r.row.settings[k] ?? '–');
  return keys.filter((k) => runs.every((r) => value(r, k) === value(runs[0], k))).map((k) => [k, value(runs[0], k)]);
}

/** Where and with what each run trained: the values every run shares once, the others in a table. */
function provenance(runs: readonly ReportRun[]): string {
  const fields = (r: ReportRun): Record<string, string> => {
    const c = r.config;
    const m = c.machine;
    return {
      backend: `${c.backend}${c.device ? ` (${typeof c.device === 'string' ? c.device : JSON.stringify(c.device)})` : ''}`,
      machine: m ? `${m.host}: ${m.cpu}, ${m.cores} cores, ${m.platform}` : 'not recorded',
      dfer: c.dfer,
      'TensorFlow.js': c.tfjs,
      'Node.js': c.node,
      data: c.data,
      'data fingerprint': c.dataFingerprint,
      protocol: c.protocol?.name ?? '–',
    };
  };
  const all = runs.map(fields);
  const keys = Object.keys(all[0]);
  const same = keys.filter((k) => all.every((f) => f[k] === all[0][k]));
  const differ = keys.filter((k) => !same.includes(k));
  // When the runs were started: a span (each run's own time is in its config.json below).
  const created = runs.map((r) => r.config.createdAt).sort();
  const span = created[0] === created.at(-1) ? created[0] : `${created[0]} to ${created.at(-1)}`;
  return [
    '<h3>Provenance</h3>',
    definitions([...same.map((k): [string, string] => [k, all[0][k]]), ['created', span]]),
    differ.length
      ? htmlTable(
          ['run', ...differ],
          runs.map((r, i) => [r.label, ...differ.map((k) => all[i][k])]),
          differ.length + 1,
        )
      : '',
  ].join('');
}

// ---------------------------------------------------------------------------------------------------------------
// HTML pieces

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A table; the columns from `numericFrom` on are right-aligned. */
function htmlTable(header: string[], rows: string[][], numericFrom: number): string {
  const cell = (tag: string, v: string, i: number) =>
    `<${tag}${i >= numericFrom ? ' class="num"' : ''}>${esc(v)}</${tag}>`;
  return `<div class="table"><table><thead><tr>${header.map((h, i) => cell('th', h, i)).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v, i) => cell('td', v, i)).join('')}</tr>`)
    .join('')}</tbody></table></div>`;
}

function definitions(pairs: [string, string][]): string {
  return `<dl>${pairs.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join('')}</dl>`;
}

/** JSON in a script element: a `<` could close it (</script>) or open a comment, so every one is escaped. */
function jsonBlock(id: string, value: unknown): string {
  return `<script type="application/json" id="${id}">${JSON.stringify(value).replace(/</g, '\\u003c')}</script>`;
}

/** Script text inline: `</script` would end the element early (a string or regex of the library may hold it). */
function scriptBlock(code: string): string {
  return `<script>${code.replace(/<\/script/gi, '<\\/script')}</script>`;
}

// ---------------------------------------------------------------------------------------------------------------
// Vega, Vega-Lite and vega-embed: their browser builds, read from node_modules when the report is written

const VEGA_LIBRARIES = [
  { name: 'vega', file: 'build/vega.min.js' },
  { name: 'vega-lite', file: 'build/vega-lite.min.js' },
  { name: 'vega-embed', file: 'build/vega-embed.min.js' },
];

function libraryText(lib: { name: string; file: string }): string {
  return readFileSync(packageFile(lib.name, lib.file), 'utf8');
}

// ---------------------------------------------------------------------------------------------------------------
// The page's style and script

const STYLE = `
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --card: #ffffff;
  --accent: #0969da; --note: #fff8c5; --chart-bg: #ffffff;
  --font: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --soft: #151b23; --card: #151b23;
    --accent: #4493f8; --note: #2e2a14; --chart-bg: #151b23;
  }
}
* { box-sizing: border-box; }
html { background: var(--bg); color: var(--fg); font: 15px/1.5 var(--font); }
body { margin: 0 auto; max-width: 1440px; padding: 24px 32px 48px; }
h1 { font-size: 1.7rem; margin: 0 0 4px; }
h2 { font-size: 1.3rem; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.02rem; margin: 0 0 2px; }
h4 { margin: 14px 0 4px; font-size: 0.95rem; }
a { color: var(--accent); }
code { font: 0.88em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--soft); padding: 1px 4px; border-radius: 4px; }
pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--soft); padding: 10px; border-radius: 6px; overflow-x: auto; }
.muted, figcaption p { color: var(--muted); }
.notes { background: var(--note); border-radius: 6px; padding: 8px 12px 8px 28px; margin: 12px 0 0; }
nav { position: sticky; top: 0; z-index: 2; background: var(--bg); border-bottom: 1px solid var(--line); padding: 8px 0; margin: 16px 0 0; display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 0.92rem; }
nav a { text-decoration: none; }
figure { margin: 16px 0 24px; padding: 14px 16px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
figcaption p { margin: 0 0 10px; font-size: 0.9rem; max-width: 110ch; }
.side-by-side { display: flex; flex-wrap: wrap; gap: 0 16px; }
.side-by-side > figure { flex: 1 1 auto; }
/* A caption as wide as its chart, not wider: it wraps instead of pushing the next figure down. */
.side-by-side figcaption p { width: 0; min-width: 100%; }
.chart { overflow-x: auto; min-height: 60px; }
.table { overflow-x: auto; margin: 8px 0 12px; }
table { border-collapse: collapse; font-size: 0.88rem; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { background: var(--soft); font-weight: 600; white-space: normal; vertical-align: bottom; }
td.num, th.num { text-align: right; }
tbody tr:hover { background: var(--soft); }
dl { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 2px 24px; font-size: 0.88rem; margin: 6px 0 16px; }
dl div { display: flex; gap: 8px; border-bottom: 1px dotted var(--line); padding: 2px 0; min-width: 0; }
dt { color: var(--muted); flex: none; }
dd { margin: 0; overflow-wrap: anywhere; }
details { margin: 12px 0; }
.vega-embed details { margin: 0; }
summary { cursor: pointer; color: var(--accent); }
footer { margin-top: 40px; color: var(--muted); font-size: 0.85rem; }
#report-error { color: #d1242f; font-weight: 600; }
.vega-embed { display: inline-block; }
.vega-embed .chart-wrapper > svg { display: block; }
.vega-embed summary { background: var(--card); color: var(--fg); }
@media print {
  :root { --bg: #ffffff; --fg: #000000; --muted: #444444; --line: #cccccc; --soft: #f3f3f3; --card: #ffffff; --note: #f3f3f3; --chart-bg: #ffffff; }
  html { font-size: 10pt; }
  body { max-width: none; padding: 0; }
  nav, .vega-embed > details, .vega-bindings, summary { display: none !important; }
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  figure, tr, dl div, pre { break-inside: avoid; }
  h2, h3, figcaption { break-after: avoid; }
  figure { border: none; padding: 0; }
  .chart, .table { overflow: visible; }
  .chart svg { max-width: 100%; height: auto; }
  /* Tables fit the page's width: cells wrap. */
  table { font-size: 7.5pt; }
  th, td { white-space: normal; padding: 2px 4px; }
  .vega-embed { display: block; }
}
`;

// Embeds every chart with vega-embed: SVG (crisp in print), the dark theme while the reader's scheme is dark and the
// page is not printing, the page's own background. Re-embeds when either changes; charts render in order, one
// pass at a time. <html data-charts="light|dark"> says which pass has finished (what a test waits for).
const PAGE_SCRIPT = `
(() => {
  const root = document.documentElement;
  const charts = JSON.parse(document.getElementById('dfer-report-charts').textContent);
  const dark = matchMedia('(prefers-color-scheme: dark)');
  const print = matchMedia('print');
  let views = [];
  let wanted = null;
  let queue = Promise.resolve();
  const scheme = () => (dark.matches && !print.matches ? 'dark' : 'light');
  async function embedAll(mode) {
    for (const view of views) view.finalize();
    const style = getComputedStyle(root);
    const config = {
      background: style.getPropertyValue('--chart-bg').trim(),
      font: style.getPropertyValue('--font').trim(),
      view: { stroke: style.getPropertyValue('--line').trim() },
      // Whiskers and reference lines: the page's ink (Vega-Lite's default black vanishes on a dark page).
      rule: { color: style.getPropertyValue('--muted').trim() },
      legend: {
        symbolBaseFillColor: style.getPropertyValue('--muted').trim(),
        symbolBaseStrokeColor: style.getPropertyValue('--muted').trim(),
      },
    };
    views = [];
    for (const chart of charts) {
      const element = document.getElementById(chart.id);
      element.replaceChildren();
      const result = await vegaEmbed(element, chart.spec, {
        mode: 'vega-lite',
        renderer: 'svg',
        ...(mode === 'dark' ? { theme: 'dark' } : {}),
        config,
        actions: { export: true, source: false, compiled: false, editor: false },
        downloadFileName: chart.id,
      });
      views.push(result.view);
    }
    root.dataset.charts = mode;
  }
  function render() {
    const mode = scheme();
    if (mode === wanted) return;
    wanted = mode;
    queue = queue.then(() => embedAll(mode)).catch((err) => {
      console.error(err);
      const note = document.createElement('p');
      note.id = 'report-error';
      note.textContent = 'The charts could not be drawn: ' + err;
      document.body.prepend(note);
    });
  }
  dark.addEventListener('change', render);
  print.addEventListener('change', render);
  render();
})();
`;
