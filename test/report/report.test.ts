// dfer report: what it gathers from runs and grids (a constructed 2 x 2 grid over 2 folds x 2 seeds, a real tiny run
// trained and mapped with t-SNE through the CLI), the numbers its charts carry (the runs' own: confusion counts, one
// curve row per epoch per run, the grid's table as dfer ablate computes it), that every spec compiles and renders with
// Vega-Lite, that the page is self-contained, the command's output and errors; and the page in a real browser (charts
// drawn, no errors, dark scheme, print, a screenshot).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ablationJson,
  expandGrid,
  runGrid,
  type AblateSpec,
  type GridRun,
  type RunRunner,
} from '../../src/analysis/ablate.js';
import type { Metrics } from '../../src/metrics/metrics.js';
import { findInputs, gatherReport, MAX_TSNE_POINTS, ReportError, type ReportData } from '../../src/report/gather.js';
import { readGrid } from '../../src/report/grid.js';
import { reportPage } from '../../src/report/html.js';
import { writeReport } from '../../src/report/report.js';
import { confusionChart, confusionPanels, curvesChart } from '../../src/report/specs.js';
import { resolveTrainOptions } from '../../src/train/options.js';
import { TEST_BACKEND } from '../helpers/backend.js';
import { browserSuite, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { makeTinySet, tinyTrainFlags } from '../helpers/tinyset.js';
import { metricsOf } from '../ui/script.js';
import { dfer, json } from '../cli/run.js';

const CLASSES = ['happiness', 'sadness', 'neutral', 'anger', 'surprise', 'disgust', 'fear'];
const EPOCHS = 3;

// ---------------------------------------------------------------------------------------------------------------
// A constructed grid: what the trainer leaves in each run directory, written by a fake runner through runGrid (which
// also writes the grid's results.json, as dfer ablate does)

/** Test metrics that differ run by run (k), with recall by intensity and the share predicted neutral. */
function metricsFor(k: number): Metrics {
  const confusion = CLASSES.map((_, i) => CLASSES.map((_, j) => (i === j ? 4 + ((k + i) % 5) : (i + j + k) % 3)));
  return {
    ...metricsOf(confusion),
    byIntensity: [0, 1, 2, 3].map((b) => ({
      lo: b / 4,
      hi: (b + 1) / 4,
      clips: 5 + b,
      recall: (b + 1 + (k % 4)) / 10,
      toNeutral: (4 - b + (k % 3)) / 20,
    })),
  };
}

function writeRun(run: GridRun, m: Metrics): void {
  mkdirSync(run.dir, { recursive: true });
  const o = resolveTrainOptions({}, run.settings);
  const { backend: _b, out: _o, workers: _w, ...train } = o;
  const config = {
    train: { ...train, data: resolve(o.data), model: { ...o.model, classes: CLASSES } },
    dfer: '0.1.0',
    tfjs: '4.22.0',
    node: 'v20.0.0',
    backend: 'wasm',
    machine: { host: 'testhost', cpu: 'Test CPU', cores: 4, platform: 'linux x64' },
    dataFingerprint: 'f00dfeed',
    data: resolve(o.data),
    createdAt: `2026-01-0${run.seed}T10:00:00.000Z`,
  };
  writeFileSync(join(run.dir, 'config.json'), JSON.stringify(config));
  const lines = Array.from({ length: EPOCHS }, (_, e) => ({
    type: 'epoch',
    epoch: e + 1,
    globalStep: 4 * (e + 1),
    lr: 0.01 / (e + 1),
    trainLoss: { total: 2 - e / 2, ce: 1.5 - e / 3, ial: 0.4, aux: 0.1 },
    val: { uar: 0.2 + e / 10, war: 0.25 + e / 10, perClass: CLASSES.map(() => 0.3) },
    best: e === 1,
  }));
  writeFileSync(join(run.dir, 'metrics.jsonl'), lines.map((l) => JSON.stringify(l) + '\n').join(''));
  writeFileSync(
    join(run.dir, 'results.json'),
    JSON.stringify({ split: 'test', fold: run.fold, selectedOn: 'val', bestEpoch: 2, metrics: m }),
  );
}

async function makeGrid(root: string): Promise<string> {
  const spec: AblateSpec = {
    axes: { gca: true, ial: true },
    folds: ['1', '2'],
    seeds: [1, 2],
    base: { data: join(root, 'data'), preset: 'small', epochs: EPOCHS },
    out: join(root, 'ablate-gca-ial'),
  };
  const plan = expandGrid(spec);
  const runner: RunRunner = async (run) => {
    writeRun(run, metricsFor(plan.runs.indexOf(run)));
    return { code: 0 };
  };
  await runGrid(plan, { jobs: 1, runner, classes: CLASSES });
  return spec.out;
}

const chartData = (html: string) => {
  const block = /<script type="application\/json" id="dfer-report-charts">([\s\S]*?)<\/script>/.exec(html);
  return JSON.parse(block![1]) as { id: string; spec: { data?: { values: Record<string, unknown>[] } } }[];
};

let root: string;
let grid: string;
let tinyRun: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'dfer-report-'));
  grid = await makeGrid(root);
  // A real run: trained and mapped through the CLI, as a user makes one.
  const data = await makeTinySet({ clips: 24, frames: 12, size: 16, dir: join(root, 'tinyset') });
  tinyRun = join(root, 'runs', 'tiny');
  const train = await dfer(['train', ...tinyTrainFlags(data, TEST_BACKEND, 2), '--out', tinyRun, '--json']);
  expect([train.code, train.code ? train.stderr : '']).toEqual([0, '']);
  const tsne = await dfer([
    'tsne',
    '--checkpoint',
    tinyRun,
    '--backend',
    TEST_BACKEND,
    '--iterations',
    '250',
    '--json',
  ]);
  expect([tsne.code, tsne.code ? tsne.stderr : '']).toEqual([0, '']);
}, 300_000);

// ---------------------------------------------------------------------------------------------------------------

describe('what the report gathers', () => {
  test("a grid's table is dfer ablate's, recomputed from its runs: the same cells, intervals and p-values", () => {
    const g = readGrid(grid)!;
    const saved = JSON.parse(readFileSync(join(grid, 'results.json'), 'utf8'));
    expect(ablationJson(g.table)).toEqual(saved);
    expect(g.table.rows.map((r) => [r.setting, r.runs])).toEqual([
      ['no-gca-no-ial', 4],
      ['no-gca-ial', 4],
      ['gca-no-ial', 4],
      ['gca-ial', 4],
    ]);
    expect(g.table.rows[1].vsBaseline!.uar.ci).toHaveLength(2); // 4 pairs: an interval
    expect(readGrid(join(grid, 'gca-ial'))).toBeNull();
  });

  test('confusion panels sum each setting over its runs; one curve row per epoch per run', () => {
    const data = gatherReport([grid]);
    expect(data.runs).toHaveLength(16);
    expect(data.runs[0]).toMatchObject({ label: 'no-gca-no-ial/fold1-seed1', group: 'no-gca-no-ial' });
    const panels = confusionPanels(data);
    expect(panels.map((p) => p.name.split(':')[0])).toEqual(['no-gca-no-ial', 'no-gca-ial', 'gca-no-ial', 'gca-ial']);
    const plan = readGrid(grid)!.plan;
    const members = plan.runs.filter((r) => r.setting === 'gca-ial').map((r) => metricsFor(plan.runs.indexOf(r)));
    const sum = CLASSES.map((_, i) => CLASSES.map((_, j) => members.reduce((a, m) => a + m.confusion[i][j], 0)));
    expect(panels[3].confusion).toEqual(sum);
    // The chart carries the counts, cell by cell.
    const rows = confusionChart(data)!.spec.data as {
      values: { panel: string; truth: string; predicted: string; count: number }[];
    };
    const cells = rows.values.filter((v) => v.panel === panels[3].name);
    expect(cells).toHaveLength(49);
    expect(cells.find((v) => v.truth === 'sadness' && v.predicted === 'fear')!.count).toBe(sum[1][6]);

    const curves = curvesChart(data)!.spec.data as { values: Record<string, unknown>[] };
    expect(curves.values).toHaveLength(16 * EPOCHS);
    const first = curves.values.filter((v) => v.run === 'no-gca-no-ial/fold1-seed1');
    expect(first.map((v) => [v.epoch, v['val UAR'], v['train loss'], v['learning rate'], v.selected])).toEqual([
      [1, 0.2, 2, 0.01, false],
      [2, 0.30000000000000004, 1.5, 0.005, true],
      [3, 0.4, 1, 0.01 / 3, false],
    ]);
  });

  test('a real run: its curves, its confusion matrix and its t-SNE map with predictions joined by clip', () => {
    const data = gatherReport([tinyRun]);
    const [run] = data.runs;
    const results = JSON.parse(readFileSync(join(tinyRun, 'results.json'), 'utf8'));
    const metrics = readFileSync(join(tinyRun, 'metrics.jsonl'), 'utf8');
    const epochs = metrics.split('\n').filter((l) => l.includes('"type":"epoch"'));
    expect(run.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(run.epochs[1].values['train loss']).toBe(JSON.parse(epochs[1]).trainLoss.total);
    expect(confusionPanels(data)[0].confusion).toEqual(results.metrics.confusion);
    expect(run.tsne).toHaveLength(1);
    const predictions = readFileSync(join(tinyRun, 'test-predictions.csv'), 'utf8').trim().split('\n').slice(1);
    expect(run.tsne[0].points).toHaveLength(predictions.length);
    for (const line of predictions) {
      const [id, label, predicted] = line.split(',');
      expect(run.tsne[0].points.find((p) => p.id === id)).toMatchObject({ label, predicted });
    }
  });

  test('a folder holding runs and grids: each grid once, its runs grouped by setting, the other runs alone', () => {
    const { gridDirs, runDirs } = findInputs([root, join(grid, 'gca-ial', 'fold1-seed1')]);
    expect(gridDirs.map((d) => resolve(d))).toEqual([resolve(grid)]);
    expect(runDirs.map((d) => resolve(d))).toEqual([resolve(tinyRun)]);
    const data = gatherReport([root]);
    expect(data.runs.map((r) => r.group).slice(-2)).toEqual(['gca-ial', 'runs/tiny']);
    expect(data.differing).toEqual(expect.arrayContaining(['loss.ial', 'model.attention']));
  });

  test('bad input: a clear error naming the path and what to give', () => {
    const empty = mkdtempSync(join(tmpdir(), 'dfer-report-empty-'));
    expect(() => findInputs([])).toThrow(/no runs or grids given: give run directories/);
    expect(() => findInputs([join(root, 'nope')])).toThrow(
      new RegExp(`${join(root, 'nope')}: no such file or directory; give`),
    );
    expect(() => findInputs([empty])).toThrow(ReportError);
    expect(() => findInputs([empty])).toThrow(/neither a run directory \(config.json\) nor a dfer ablate grid/);
    expect(() => findInputs([join(tinyRun, 'results.json')])).toThrow(/neither a run directory/);
  });

  test('a t-SNE map above the limit is drawn from a seeded subset', () => {
    const big = join(root, 'big-tsne');
    mkdirSync(big);
    writeFileSync(join(big, 'config.json'), readFileSync(join(tinyRun, 'config.json')));
    const n = MAX_TSNE_POINTS + 5;
    writeFileSync(
      join(big, 'tsne-fold1-test.csv'),
      ['id,class,label,intensity,x,y', ...Array.from({ length: n }, (_, i) => `c${i},fear,6,0.5,${i},${-i}`)].join(
        '\n',
      ),
    );
    const [map] = gatherReport([big]).runs[0].tsne;
    expect([map.points.length, map.total]).toEqual([MAX_TSNE_POINTS, n]);
    expect(map.points[1]).toMatchObject({ label: 'fear', intensity: 0.5, x: -map.points[1].y });
    expect(map.points.map((p) => p.x)).toEqual([...map.points.map((p) => p.x)].sort((a, b) => a - b));
  });
});

describe('the page', () => {
  let data: ReportData;
  let html: string;
  beforeAll(() => {
    data = gatherReport([grid, tinyRun], { title: 'A </script><b>title</b>' });
    html = reportPage(data).html;
  });

  test('self-contained: no external script, style, image or link; the libraries and the numbers inline', () => {
    const external = [...html.matchAll(/<(script|link|img|iframe|a)\b[^>]*\b(src|href)\s*=\s*["']?(https?:)?\/\//gi)];
    expect(external.map((m) => m[0])).toEqual([]);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).toMatch(/Content-Security-Policy" content="default-src 'none'/);
    // Vega, Vega-Lite and vega-embed, each inline once; nothing closes a script early.
    expect(html.match(/<script>/g)).toHaveLength(4);
    expect(html.split(/<\/script>/i)).toHaveLength(6);
    expect(html).toContain('A &#60;/script&#62;&#60;b&#62;title&#60;/b&#62;');
    // Settings every run shares: not the fold or the seed, which differ.
    expect(html).toMatch(/<dt>preset<\/dt><dd>small<\/dd>/);
    expect(html).not.toMatch(/<dt>(fold|seed)<\/dt>/);
    expect(Buffer.byteLength(html)).toBeLessThan(3 * 2 ** 20);
  });

  test('the JSON block holds every chart, with the runs numbers', () => {
    const charts = chartData(html);
    expect(charts.map((c) => c.id)).toEqual([
      'chart-grid-0-runs',
      'chart-grid-0-diff',
      'chart-curves',
      'chart-confusion',
      'chart-recall-class',
      'chart-recall-intensity',
      'chart-tsne-0',
    ]);
    for (const c of charts) expect(html).toContain(`<div class="chart" id="${c.id}"></div>`);
    const confusion = charts.find((c) => c.id === 'chart-confusion')!.spec.data!.values;
    const tiny = JSON.parse(readFileSync(join(tinyRun, 'results.json'), 'utf8')).metrics.confusion as number[][];
    const mine = confusion.filter((v) => String(v.panel).startsWith('runs/tiny'));
    expect(mine.map((v) => v.count)).toEqual(tiny.flat());
    expect(charts.find((c) => c.id === 'chart-curves')!.spec.data!.values).toHaveLength(16 * EPOCHS + 2);
  });

  test('every spec compiles with Vega-Lite and renders to SVG with Vega', async () => {
    const vl = await import('vega-lite');
    const vega = await import('vega');
    for (const chart of reportPage(data).charts) {
      const warnings: string[] = [];
      const logger = vega.logger(vega.Warn);
      logger.warn = (...a: unknown[]) => {
        warnings.push(a.join(' '));
        return logger;
      };
      const compiled = vl.compile(chart.spec, { logger: logger as never });
      expect([chart.id, warnings]).toEqual([chart.id, []]);
      const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none' });
      const svg = await view.toSVG();
      view.finalize();
      expect(svg.length).toBeGreaterThan(1000);
    }
  });
});

describe('dfer report', () => {
  test('writes the file and says what it holds (--json); bad input writes nothing', async () => {
    const out = join(root, 'out', 'report.html');
    const r = await dfer(['report', grid, tinyRun, '-o', out, '--title', 'Tiny', '--json']);
    expect(r.code).toBe(0);
    const doc = json<{
      out: string;
      bytes: number;
      runs: unknown[];
      grids: { settings: number; runs: number }[];
      charts: string[];
    }>(r);
    expect(doc).toMatchObject({ out, runs: expect.any(Array), grids: [{ settings: 4, runs: 16 }] });
    expect(doc.runs).toHaveLength(17);
    expect(doc.bytes).toBe(readFileSync(out).length);
    expect(doc.charts).toContain('Test confusion matrices');
    const text = await dfer(['report', tinyRun, '-o', join(root, 'out', 'tiny.html')]);
    expect(text.stdout).toMatch(/^wrote .*tiny\.html \(\d+ KiB\): "Run tiny", 1 run \(1 finished\)$/m);
    expect(text.stdout).toMatch(/^open it in a browser \(it needs no network\): file:\/\/\//m);

    const missing = join(root, 'out', 'missing.html');
    const bad = await dfer(['report', join(root, 'nope'), '-o', missing]);
    expect(bad.code).toBe(3);
    expect(bad.stderr.trim()).toBe(
      `dfer report: error: ${join(root, 'nope')}: no such file or directory; give run directories (with config.json), dfer ablate --out folders, or a folder that holds them`,
    );
    expect(existsSync(missing)).toBe(false);
    const folder = await dfer(['report', tinyRun, '-o', join(root, 'out'), '--json']);
    expect([folder.code, json<{ error: string }>(folder).error]).toEqual([
      3,
      expect.stringMatching(/a folder; give the file/),
    ]);
    const none = await dfer(['report', '-o', missing]);
    expect([none.code, none.stderr]).toEqual([2, expect.stringMatching(/no runs or grids given/)]);
    expect(existsSync(missing)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// In a real browser

browserSuite('test/report/report.test.ts')('the report in chromium', () => {
  let browser: TestBrowser;
  let shots: string;
  beforeAll(async () => {
    browser = await launchBrowser();
    shots = mkdtempSync(join(tmpdir(), 'dfer-report-shots-'));
  }, 60_000);
  afterAll(() => browser?.close());

  /** Waits for the charts' pass in `scheme`; per chart: rendered SVGs and their marks. */
  // (A string, not a function: page.evaluate runs it as written, whatever the test's transpiler adds to functions.)
  const rendered = async (page: import('playwright-core').Page, scheme: string) => {
    await page.waitForFunction((s) => document.documentElement.dataset.charts === s, scheme, { timeout: 60_000 });
    return page.evaluate(`[...document.querySelectorAll('.chart')].map((c) => ({
      id: c.id,
      svgs: c.querySelectorAll('.chart-wrapper > svg').length,
      marks: c.querySelectorAll('.chart-wrapper > svg [class*="mark-"] > *').length,
      background: getComputedStyle(c.querySelector('.chart-wrapper > svg')).backgroundColor,
    }))`) as Promise<{ id: string; svgs: number; marks: number; background: string }[]>;
  };
  const curveOpacities = (page: import('playwright-core').Page) =>
    page.evaluate(`[...document.querySelectorAll('#chart-curves .chart-wrapper > svg .mark-line path')]
      .map((p) => p.getAttribute('opacity'))
      .reduce((n, o) => ({ ...n, [o]: (n[o] ?? 0) + 1 }), {})`);
  const pageBackground = (page: import('playwright-core').Page) =>
    page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);

  for (const which of ['tiny run', 'grid and run'] as const) {
    test(`${which}: every chart drawn, no errors or requests; dark scheme; print`, async () => {
      const file = join(shots, `${which.replace(/ /g, '-')}.html`);
      writeReport({ paths: which === 'tiny run' ? [tinyRun] : [grid, tinyRun], out: file });
      const expected = chartData(readFileSync(file, 'utf8')).map((c) => c.id);
      const tab = await browser.open(file, { colorScheme: 'light' });
      try {
        const light = await rendered(tab.page, 'light');
        expect(light.map((c) => c.id)).toEqual(expected);
        for (const c of light) expect([c.id, c.svgs, c.marks > 3]).toEqual([c.id, 1, true]);
        const lightBackground = await pageBackground(tab.page);
        if (which === 'grid and run') {
          // The legend toggles: a setting's entry brings its 4 runs forward (7 curves each), the 13 others fade.
          await tab.page.locator('#chart-curves .role-legend-symbol path').first().click({ force: true });
          await tab.page.waitForFunction(
            `document.querySelectorAll('#chart-curves .mark-line path[opacity="0.08"]').length > 0`,
          );
          expect(await curveOpacities(tab.page)).toEqual({ '0.9': 4 * 7, '0.08': 13 * 7 });
        }
        await tab.screenshot(join(shots, `${which.replace(/ /g, '-')}-light.png`));

        await tab.page.emulateMedia({ colorScheme: 'dark' });
        const dark = await rendered(tab.page, 'dark');
        expect(await pageBackground(tab.page)).not.toBe(lightBackground);
        expect(dark.map((c) => c.background)).toEqual(dark.map(() => 'rgb(21, 27, 35)'));
        expect(light.map((c) => c.background)).toEqual(light.map(() => 'rgb(255, 255, 255)'));
        for (const c of dark) expect([c.id, c.svgs, c.marks > 3]).toEqual([c.id, 1, true]);
        await tab.screenshot(join(shots, `${which.replace(/ /g, '-')}-dark.png`));

        // Printing from the dark scheme: a white page, light charts, no chart controls.
        await tab.page.emulateMedia({ media: 'print', colorScheme: 'dark' });
        const printed = await rendered(tab.page, 'light');
        expect(await pageBackground(tab.page)).toBe('rgb(255, 255, 255)');
        expect(printed.map((c) => c.background)).toEqual(printed.map(() => 'rgb(255, 255, 255)'));
        expect(await tab.page.evaluate(() => document.querySelector('nav')!.getBoundingClientRect().height)).toBe(0);
        const pdf = await tab.page.pdf({ format: 'A4' });
        expect(pdf.subarray(0, 4).toString()).toBe('%PDF');

        expect(tab.errors).toEqual([]);
        expect(tab.external).toEqual([]);
      } finally {
        await tab.close();
      }
    }, 120_000);
  }

  test('t-SNE tooltips name the clip, its class and the prediction', async () => {
    const file = join(shots, 'tiny-run.html');
    const tab = await browser.open(file);
    try {
      await rendered(tab.page, 'light');
      const point = tab.page.locator('#chart-tsne-0 .chart-wrapper > svg .mark-symbol path').first();
      await point.hover({ force: true });
      const tooltip = tab.page.locator('#vg-tooltip-element');
      await tooltip.waitFor({ state: 'visible', timeout: 10_000 });
      const rows = (await tab.page.evaluate(
        `Object.fromEntries([...document.querySelectorAll('#vg-tooltip-element tr')].map((r) => [...r.cells].map((c) => c.textContent)))`,
      )) as Record<string, string>;
      expect(rows).toEqual({
        clip: expect.stringMatching(/^\d{5}$/),
        class: expect.any(String),
        predicted: expect.any(String),
      });
      expect(CLASSES).toEqual(expect.arrayContaining([rows.class, rows.predicted]));
    } finally {
      await tab.close();
    }
  }, 60_000);
});
