// The report's charts as Vega-Lite specs: plain JSON data that the page carries and vega-embed draws. Each spec holds
// its own numbers (data.values), kept as the runs recorded them (fractions, counts): axes and tooltips format them.
// One colour per group (a grid's setting, or a run) in every chart, and a legend-bound selection in those that show
// groups: clicking a legend entry brings its runs forward.
import type { TopLevelSpec } from 'vega-lite';
import { meanSdText, settingConfusions, type MeanSd, type SettingResult } from '../analysis/ablate.js';
import type { Metrics } from '../metrics/metrics.js';
import { CURVE_ORDER, type ReportData, type ReportGrid, type ReportRun, type TsneMap } from './gather.js';

/** A chart of the page: where it goes (its element id), what it is called and the spec that draws it. */
export interface ReportChart {
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

const PICK = 'pick';

/** Vega's tableau10, the colours of the groups in the order the report lists them (a grid's settings, then runs). */
const GROUP_COLOURS = [
  '#4c78a8',
  '#f58518',
  '#e45756',
  '#72b7b2',
  '#54a24b',
  '#eeca3b',
  '#b279a2',
  '#ff9da6',
  '#9d755d',
  '#bab0ac',
];

/**
 * The colour of the groups a chart shows (all by default): each group keeps its colour in every chart, whichever
 * others a chart leaves out (a run without test results has curves and no bars). The legend toggles them.
 */
function groupColour(data: ReportData, o: { shown?: readonly string[]; legend?: 'lines' | 'areas' | 'none' } = {}) {
  const all = [...new Set(data.runs.map((r) => r.group))];
  const shown = all.filter((g) => !o.shown || o.shown.includes(g));
  const legend = o.legend ?? 'lines';
  return {
    field: 'group',
    type: 'nominal' as const,
    scale: { domain: shown, range: shown.map((g) => GROUP_COLOURS[all.indexOf(g) % GROUP_COLOURS.length]) },
    legend:
      legend === 'none'
        ? null
        : { title: null, labelLimit: 260, ...(legend === 'lines' ? { symbolType: 'stroke' } : {}) },
  };
}
const pickByLegend = { name: PICK, select: { type: 'point' as const, fields: ['group'] }, bind: 'legend' as const };
const pickedOpacity = (on: number, off: number) => ({ condition: { param: PICK, value: on }, value: off });

const SETTING_SPREAD = 'A grid setting: mean ± sample sd over its runs (the whiskers), as in its table.';
const TOGGLE_HINT = 'Click a legend entry to bring its runs forward (shift-click adds more); double-click to show all.';
const pctAxis = { format: '.0%' };
const pctScale = { domain: [0, 1] };

// ---------------------------------------------------------------------------------------------------------------
// Training curves: every number of metrics.jsonl's epoch lines, a panel each, the runs overlaid

export function curvesChart(data: ReportData): ReportChart | null {
  const rows = data.runs.flatMap((run) =>
    run.epochs.map((e) => ({
      run: run.label,
      group: run.group,
      epoch: e.epoch,
      selected: run.results?.bestEpoch === e.epoch,
      ...e.values,
    })),
  );
  if (!rows.length) return null;
  const present = new Set(data.runs.flatMap((r) => r.epochs.flatMap((e) => Object.keys(e.values))));
  const metrics = [
    ...CURVE_ORDER.filter((m) => present.has(m)),
    ...[...present].filter((m) => !CURVE_ORDER.includes(m)).sort(),
  ];
  const x = { field: 'epoch', type: 'quantitative' as const, axis: { tickMinStep: 1 } };
  const y = { field: 'value', type: 'quantitative' as const, title: null, scale: { zero: false } };
  return {
    id: 'chart-curves',
    title: 'Training curves',
    caption: `Per epoch, as metrics.jsonl records it: the mean training loss and its parts, the validation UAR and WAR, the learning rate; a diamond marks the epoch each run selected. ${TOGGLE_HINT}`,
    spec: {
      data: { values: rows },
      transform: [{ fold: metrics, as: ['metric', 'value'] }, { filter: 'isValid(datum.value)' }],
      facet: { field: 'metric', type: 'nominal', sort: metrics, title: null, header: { labelFontWeight: 'bold' } },
      columns: Math.min(4, metrics.length),
      spec: {
        width: 250,
        height: 150,
        encoding: { x, y, color: groupColour(data), detail: { field: 'run', type: 'nominal' } },
        layer: [
          {
            params: [pickByLegend],
            mark: { type: 'line', strokeWidth: 1.5 },
            encoding: { opacity: pickedOpacity(0.9, 0.08) },
          },
          {
            // Invisible points under the lines: what the tooltip shows where the pointer is.
            mark: { type: 'point', filled: true, size: 40, opacity: 0 },
            encoding: {
              tooltip: [
                { field: 'run', type: 'nominal' },
                { field: 'epoch', type: 'quantitative' },
                { field: 'metric', type: 'nominal' },
                { field: 'value', type: 'quantitative', format: '.4~g' },
              ],
            },
          },
          {
            transform: [{ filter: 'datum.selected' }],
            mark: { type: 'point', shape: 'diamond', filled: true, size: 70 },
            encoding: { opacity: pickedOpacity(1, 0.1) },
          },
        ],
      },
      // Each panel its own axes: no stray axis under an empty cell of the last row.
      resolve: { scale: { y: 'independent' }, axis: { x: 'independent', y: 'independent' } },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Test confusion matrices: a grid's settings summed over their finished runs (each test clip of each fold and seed
// once, as dfer ablate's figure), the other runs one each

interface ConfusionPanel {
  name: string;
  classes: string[];
  confusion: number[][];
}

export function confusionPanels(data: ReportData): ConfusionPanel[] {
  const ofGrid = (g: ReportGrid) =>
    settingConfusions(g.plan, g.metrics, g.table.classes).map(({ setting, runs, confusion }) => {
      const row = g.table.rows.find((r) => r.setting === setting)!;
      const name = `${g.groups.get(setting)}: ${runCount(runs)}, UAR ${meanSdText(row.uar)}%`;
      return { name, classes: g.table.classes, confusion };
    });
  const single = data.runs
    .filter((r) => r.results && !r.grid)
    .map((r) => ({
      name: `${r.label}: UAR ${pct(r.results!.metrics.uar)}`,
      classes: r.classes,
      confusion: r.results!.metrics.confusion,
    }));
  return [...data.grids.flatMap(ofGrid), ...single];
}

const runCount = (ms: readonly Metrics[]) => `${ms.length} run${ms.length > 1 ? 's' : ''}`;
const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : 'n/a');

export function confusionChart(data: ReportData): ReportChart | null {
  const panels = confusionPanels(data);
  if (!panels.length) return null;
  const rows = panels.flatMap((p) =>
    p.confusion.flatMap((row, i) => {
      const support = row.reduce((a, b) => a + b, 0);
      return row.map((count, j) => ({
        panel: p.name,
        truth: p.classes[i],
        predicted: p.classes[j],
        count,
        share: support ? count / support : 0,
      }));
    }),
  );
  const sameClasses = panels.every((p) => p.classes.join() === panels[0].classes.join());
  const classes = panels[0].classes;
  const side = Math.max(120, 26 * classes.length);
  const axis = (field: 'truth' | 'predicted', title: string) => ({
    field,
    type: 'nominal' as const,
    title,
    ...(sameClasses ? { sort: classes } : {}),
  });
  return {
    id: 'chart-confusion',
    title: 'Test confusion matrices',
    caption: `Rows: the true class, columns: the predicted one. Each cell holds its count of test clips and is shaded by its share of the row (the recall on the diagonal).${data.grids.length ? ' A grid setting sums its runs: every test clip of every fold and seed once.' : ''}`,
    spec: {
      data: { values: rows },
      facet: {
        field: 'panel',
        type: 'nominal',
        sort: panels.map((p) => p.name),
        title: null,
        header: { labelLimit: 0 },
      },
      columns: Math.min(panels.length, Math.max(1, Math.floor(1300 / (side + 110)))),
      spec: {
        width: side,
        height: side,
        encoding: {
          x: { ...axis('predicted', 'predicted'), axis: { labelAngle: -45 } },
          y: axis('truth', 'true class'),
        },
        layer: [
          {
            mark: { type: 'rect' },
            encoding: {
              color: {
                field: 'share',
                type: 'quantitative',
                scale: { scheme: 'blues', domain: [0, 1] },
                legend: { title: 'share of row', format: '.0%' },
              },
              tooltip: [
                { field: 'truth', type: 'nominal', title: 'true class' },
                { field: 'predicted', type: 'nominal' },
                { field: 'count', type: 'quantitative' },
                { field: 'share', type: 'quantitative', format: '.1%', title: 'share of row' },
              ],
            },
          },
          {
            mark: { type: 'text', fontSize: 10 },
            encoding: {
              text: { field: 'count', type: 'quantitative' },
              color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: '#1f2328' },
            },
          },
        ],
      },
      resolve: {
        axis: { x: 'independent', y: 'independent' },
        ...(sameClasses ? {} : { scale: { x: 'independent', y: 'independent' } }),
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Recall by class and by apex intensity: a grid's settings as its table has them (mean ± sample sd over its runs), the
// other runs their own test results

interface GroupRecall {
  group: string;
  classes: string[];
  perClass: MeanSd[];
  byIntensity?: { lo: number; hi: number; clips: number; recall: MeanSd; toNeutral?: MeanSd }[];
}

function groupRecalls(data: ReportData): GroupRecall[] {
  const ofSetting = (g: ReportGrid, row: SettingResult): GroupRecall[] =>
    row.runs
      ? [
          {
            group: g.groups.get(row.setting)!,
            classes: g.table.classes,
            perClass: row.perClass,
            byIntensity: row.byIntensity,
          },
        ]
      : [];
  const one = (v: number): MeanSd => ({ mean: v, sd: NaN });
  const single = data.runs
    .filter((r) => r.results && !r.grid)
    .map((r) => {
      const m = r.results!.metrics;
      return {
        group: r.group,
        classes: r.classes,
        perClass: m.perClass.map(one),
        byIntensity: m.byIntensity?.map((b) => ({
          lo: b.lo,
          hi: b.hi,
          clips: b.clips,
          recall: one(b.recall),
          ...(b.toNeutral !== undefined ? { toNeutral: one(b.toNeutral) } : {}),
        })),
      };
    });
  return [...data.grids.flatMap((g) => g.table.rows.flatMap((row) => ofSetting(g, row))), ...single];
}

/** A mean ± sd as chart fields: value, and low/high where there is a spread. */
const spread = (m: MeanSd) => ({
  value: m.mean,
  ...(Number.isFinite(m.sd) ? { sd: m.sd, low: m.mean - m.sd, high: m.mean + m.sd } : {}),
});

const valueTooltip = (title: string) => [
  { field: 'group', type: 'nominal' as const, title: 'run or setting' },
  { field: 'value', type: 'quantitative' as const, format: '.2%', title },
  { field: 'sd', type: 'quantitative' as const, format: '.2%', title: 'sd over runs' },
];

export function recallByClassChart(data: ReportData): ReportChart | null {
  const recalls = groupRecalls(data);
  if (!recalls.length) return null;
  const rows = recalls.flatMap((r) =>
    r.classes.map((c, k) => ({ group: r.group, class: c, ...spread(r.perClass[k] ?? { mean: NaN, sd: NaN }) })),
  );
  const groups = recalls.map((r) => r.group);
  const classes = [...new Set(recalls.flatMap((r) => r.classes))];
  // The step is each bar's (the offset's): many runs make a wider chart rather than hairline bars, and a class gets
  // room for its name however few bars it has.
  const step = Math.max(
    8,
    Math.ceil(72 / groups.length),
    Math.min(22, Math.floor(900 / (classes.length * groups.length))),
  );
  const x = { field: 'class', type: 'nominal' as const, sort: classes, title: null, axis: { labelAngle: 0 } };
  const xOffset = { field: 'group', type: 'nominal' as const, sort: groups };
  return {
    id: 'chart-recall-class',
    title: 'Test recall by class',
    caption: `${data.grids.length ? `${SETTING_SPREAD} ` : ''}${TOGGLE_HINT}`,
    spec: {
      data: { values: rows },
      width: { step },
      height: 220,
      encoding: { x, xOffset },
      layer: [
        {
          params: [pickByLegend],
          mark: { type: 'bar' },
          encoding: {
            y: { field: 'value', type: 'quantitative', title: 'recall', axis: pctAxis, scale: pctScale },
            color: groupColour(data, { shown: groups, legend: 'areas' }),
            opacity: pickedOpacity(1, 0.15),
            tooltip: [{ field: 'class', type: 'nominal' }, ...valueTooltip('recall')],
          },
        },
        {
          transform: [{ filter: 'isValid(datum.low)' }],
          mark: { type: 'rule', strokeWidth: 1, clip: true },
          encoding: {
            y: { field: 'low', type: 'quantitative' },
            y2: { field: 'high' },
            opacity: pickedOpacity(0.8, 0.1),
          },
        },
      ],
    },
  };
}

export function recallByIntensityChart(data: ReportData): ReportChart | null {
  const recalls = groupRecalls(data).filter((r) => r.byIntensity?.length);
  if (!recalls.length) return null;
  const bin = (b: { lo: number; hi: number }) => `${b.lo.toFixed(2)}–${b.hi.toFixed(2)}`;
  const rows = recalls.flatMap((r) =>
    r.byIntensity!.flatMap((b) => [
      { group: r.group, measure: 'recall', bin: bin(b), lo: b.lo, clips: b.clips, ...spread(b.recall) },
      ...(b.toNeutral
        ? [
            {
              group: r.group,
              measure: 'predicted “neutral”',
              bin: bin(b),
              lo: b.lo,
              clips: b.clips,
              ...spread(b.toNeutral),
            },
          ]
        : []),
    ]),
  );
  const groups = recalls.map((r) => r.group);
  const x = {
    field: 'bin',
    type: 'ordinal' as const,
    sort: { field: 'lo' },
    title: 'apex intensity',
    axis: { labelAngle: 0 },
  };
  const y = { field: 'value', type: 'quantitative' as const, title: null, axis: pctAxis, scale: pctScale };
  return {
    id: 'chart-recall-intensity',
    title: 'Test recall by apex intensity',
    caption: `Expressive test clips binned by the apex intensity the data records: the recall of each bin, and the share of its clips predicted “neutral” (weak expressions drift there).${data.grids.length ? ` ${SETTING_SPREAD}` : ''} ${TOGGLE_HINT}`,
    spec: {
      data: { values: rows },
      facet: { field: 'measure', type: 'nominal', title: null, sort: ['recall'], header: { labelFontWeight: 'bold' } },
      spec: {
        width: 300,
        height: 200,
        encoding: { x, y, color: groupColour(data, { shown: groups }) },
        layer: [
          {
            params: [pickByLegend],
            mark: { type: 'line', point: true },
            encoding: {
              opacity: pickedOpacity(1, 0.12),
              tooltip: [
                { field: 'measure', type: 'nominal' },
                { field: 'bin', type: 'nominal', title: 'intensity' },
                { field: 'clips', type: 'quantitative', title: 'clips (all runs)' },
                ...valueTooltip('value'),
              ],
            },
          },
          {
            transform: [{ filter: 'isValid(datum.low)' }],
            mark: { type: 'rule', clip: true },
            encoding: {
              y: { field: 'low', type: 'quantitative' },
              y2: { field: 'high' },
              opacity: pickedOpacity(0.5, 0.05),
            },
          },
        ],
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// An ablation grid: every run's test UAR and WAR by setting with the table's mean ± sd, and each setting's paired
// difference from the baseline with its 95% bootstrap interval (the table's numbers, src/metrics/paired.ts)

export function gridRunsChart(g: ReportGrid, data: ReportData, index: number): ReportChart {
  const settings = g.table.rows.map((r) => g.groups.get(r.setting)!);
  const runs = g.table.rows.flatMap((r) =>
    r.members.flatMap((m) =>
      (['UAR', 'WAR'] as const).map((metric) => ({
        group: g.groups.get(r.setting)!,
        metric,
        run: m.id,
        fold: m.fold,
        seed: m.seed,
        value: metric === 'UAR' ? m.uar : m.war,
      })),
    ),
  );
  const means = g.table.rows.flatMap((r) =>
    (['UAR', 'WAR'] as const).map((metric) => ({
      group: g.groups.get(r.setting)!,
      metric,
      runs: r.runs,
      ...spread(metric === 'UAR' ? r.uar : r.war),
    })),
  );
  const y = { field: 'group', type: 'nominal' as const, sort: settings, title: null };
  const colour = groupColour(data, { legend: 'none' });
  const panel = (metric: 'UAR' | 'WAR') => ({
    width: 240,
    height: { step: 26 },
    layer: [
      {
        data: { values: runs.filter((r) => r.metric === metric) },
        mark: { type: 'tick' as const, thickness: 2, opacity: 0.45 },
        encoding: {
          y,
          x: {
            field: 'value',
            type: 'quantitative' as const,
            title: `test ${metric}`,
            axis: pctAxis,
            scale: { zero: false },
          },
          color: colour,
          tooltip: [
            { field: 'run', type: 'nominal' as const },
            { field: 'value', type: 'quantitative' as const, format: '.2%', title: metric },
          ],
        },
      },
      {
        data: { values: means.filter((r) => r.metric === metric) },
        layer: [
          {
            transform: [{ filter: 'isValid(datum.low)' }],
            mark: { type: 'rule' as const, strokeWidth: 2 },
            encoding: { y, x: { field: 'low', type: 'quantitative' as const }, x2: { field: 'high' }, color: colour },
          },
          {
            mark: { type: 'point' as const, shape: 'diamond', filled: true, size: 130, opacity: 1 },
            encoding: {
              y,
              x: { field: 'value', type: 'quantitative' as const },
              color: colour,
              tooltip: [
                { field: 'group', type: 'nominal' as const, title: 'setting' },
                { field: 'runs', type: 'quantitative' as const },
                { field: 'value', type: 'quantitative' as const, format: '.2%', title: `mean ${metric}` },
                { field: 'sd', type: 'quantitative' as const, format: '.2%', title: 'sample sd' },
              ],
            },
          },
        ],
      },
    ],
  });
  return {
    id: `chart-grid-${index}-runs`,
    title: 'Every run by setting',
    caption:
      'A tick per run (its fold and seed in the tooltip); the diamond and bar: the mean ± sample sd of the table.',
    spec: { hconcat: [panel('UAR'), panel('WAR')] },
  };
}

export function gridDiffChart(g: ReportGrid, data: ReportData, index: number): ReportChart | null {
  const compared = g.table.rows.filter((r) => r.vsBaseline);
  if (!compared.length) return null;
  const baseline = compared[0].vsBaseline!.baseline;
  const rows = compared.flatMap((r) =>
    (['UAR', 'WAR'] as const).map((metric) => {
      const d = metric === 'UAR' ? r.vsBaseline!.uar : r.vsBaseline!.war;
      return {
        group: g.groups.get(r.setting)!,
        metric,
        diff: 100 * d.diff,
        ...(d.ci ? { low: 100 * d.ci[0], high: 100 * d.ci[1] } : {}),
        p: d.p,
        pairs: d.pairs,
      };
    }),
  );
  const y = {
    field: 'group',
    type: 'nominal' as const,
    sort: compared.map((r) => g.groups.get(r.setting)!),
    title: null,
  };
  const x = (field: string) => ({
    field,
    type: 'quantitative' as const,
    title: `Δ vs ${baseline} (points)`,
  });
  const colour = groupColour(data, { legend: 'none' });
  return {
    id: `chart-grid-${index}-diff`,
    title: `Paired difference from ${baseline}`,
    caption:
      'The mean paired difference in points over the (fold, seed) pairs both settings finished, with its 95% percentile-bootstrap interval over the pairs; the tooltip gives the exact paired sign-flip p-value. An interval clear of 0 is a difference the seeds do not explain.',
    spec: {
      data: { values: rows },
      facet: { column: { field: 'metric', type: 'nominal', title: null, header: { labelFontWeight: 'bold' } } },
      spec: {
        width: 200,
        height: { step: 30 },
        layer: [
          {
            mark: { type: 'rule', strokeDash: [4, 3], opacity: 0.6 },
            encoding: { x: { datum: 0, type: 'quantitative' } },
          },
          {
            transform: [{ filter: 'isValid(datum.low)' }],
            mark: { type: 'rule', strokeWidth: 2 },
            encoding: { y, x: x('low'), x2: { field: 'high' }, color: colour },
          },
          {
            mark: { type: 'point', filled: true, size: 80 },
            encoding: {
              y,
              x: x('diff'),
              color: colour,
              tooltip: [
                { field: 'group', type: 'nominal', title: 'setting' },
                { field: 'diff', type: 'quantitative', format: '+.2f', title: 'Δ (points)' },
                { field: 'low', type: 'quantitative', format: '+.2f', title: '95% CI low' },
                { field: 'high', type: 'quantitative', format: '+.2f', title: '95% CI high' },
                { field: 'p', type: 'quantitative', format: '.3f', title: 'p (sign-flip)' },
                { field: 'pairs', type: 'quantitative' },
              ],
            },
          },
        ],
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// t-SNE maps: zoom with the wheel, pan by dragging, a clip's id, class and prediction on hover

export function tsneChart(run: ReportRun, map: TsneMap, id: string): ReportChart {
  const withPredictions = map.points.some((p) => p.predicted !== undefined);
  const rows = map.points.map((p) => ({
    ...p,
    ...(p.predicted !== undefined ? { outcome: p.predicted === p.label ? 'right' : 'wrong' } : {}),
  }));
  const classes = [...new Set([...run.classes, ...map.points.map((p) => p.label)])];
  const file = map.file.split(/[\\/]/).at(-1);
  const subset =
    map.points.length < map.total ? ` A seeded random ${map.points.length} of its ${map.total} points.` : '';
  // A t-SNE map's axes mean nothing: no ticks; a margin so that no point sits on the frame.
  const axis = (field: 'x' | 'y') => ({
    field,
    type: 'quantitative' as const,
    axis: null,
    scale: { domain: paddedDomain(map.points.map((p) => p[field])) },
  });
  return {
    id,
    title: `t-SNE: ${run.label}, ${file}${map.map === 'ours' ? '' : ` (${map.map})`}`,
    caption: `Each point a clip, coloured by its class${withPredictions ? '; a cross where the run predicted another class' : ''}. Scroll to zoom, drag to pan, double-click to reset; hover a point for its clip.${subset}`,
    spec: {
      data: { values: rows },
      width: 400,
      height: 400,
      params: [
        { name: 'zoom', select: { type: 'interval' }, bind: 'scales' },
        { name: 'classPick', select: { type: 'point', fields: ['label'] }, bind: 'legend' },
      ],
      mark: { type: 'point', filled: true, size: 36, clip: true },
      encoding: {
        x: axis('x'),
        y: axis('y'),
        color: { field: 'label', type: 'nominal', title: 'class', scale: { domain: classes, scheme: 'tableau10' } },
        ...(withPredictions
          ? {
              shape: {
                field: 'outcome',
                type: 'nominal',
                title: 'prediction',
                scale: { domain: ['right', 'wrong'], range: ['circle', 'cross'] },
              },
            }
          : {}),
        opacity: { condition: { param: 'classPick', value: 0.85 }, value: 0.06 },
        tooltip: [
          { field: 'id', type: 'nominal', title: 'clip' },
          { field: 'label', type: 'nominal', title: 'class' },
          ...(withPredictions ? [{ field: 'predicted', type: 'nominal' as const }] : []),
          ...(map.points.some((p) => p.intensity !== undefined)
            ? [{ field: 'intensity', type: 'quantitative' as const, format: '.2f' }]
            : []),
        ],
      },
    },
  };
}

/** The extent of the values with 4% to spare on each side (a map collapsed to a point gets a unit square). */
function paddedDomain(values: number[]): [number, number] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const margin = hi > lo ? 0.04 * (hi - lo) : 1;
  return [lo - margin, hi + margin];
}
