// `dfer ablate`'s core (src/analysis/ablate.ts) with a fake runner in place of `dfer train` child processes: grid
// expansion (Tables 1-3, axes that do not apply), parallel runs, skipping finished runs, resuming stopped and killed
// ones, interruption, conflicts with an existing run; the table's arithmetic and formats; the plain reporter.
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import {
  ablationCsv,
  ablationJson,
  ablationMarkdown,
  axesFromFlags,
  aggregateSetting,
  intensityFigure,
  expandGrid,
  meanSdText,
  parseIntList,
  parseNumberList,
  runGrid,
  settingsToArgs,
  tableCells,
  type AblateEvent,
  type AblateSpec,
  type GridRun,
  type RunRunner,
} from '../../src/analysis/ablate.js';
import type { TrainEvent } from '../../src/train/events.js';
import type { Metrics } from '../../src/metrics/metrics.js';
import { OptionError, resolveTrainOptions } from '../../src/train/options.js';
import { ablateView, createAblateReporter, initialAblateState, reduceAblate } from '../../src/ui/ablate.js';
import { metricsOf } from '../ui/script.js';

const CLASSES = ['happiness', 'sadness', 'neutral', 'anger', 'surprise', 'disgust', 'fear'];

const spec = (axes: AblateSpec['axes'], more: Partial<AblateSpec> = {}): AblateSpec => ({
  axes,
  folds: ['1'],
  seeds: [1],
  base: { data: 'data/synth', preset: 'small', epochs: 3 },
  out: mkdtempSync(join(tmpdir(), 'dfer-ablate-')),
  ...more,
});

/** A 7-class confusion matrix whose UAR and WAR depend on `k` (so every run has its own numbers). */
function metricsFor(k: number): Metrics {
  const c = Array.from({ length: 7 }, (_, i) =>
    Array.from({ length: 7 }, (_, j) => (i === j ? 4 + ((k + i) % 5) : (i + j + k) % 2)),
  );
  return metricsOf(c);
}

/** What the trainer leaves in a run directory: config.json (as trainer.ts writes it) and, when finished, results.json. */
function writeRun(run: GridRun, finished: Metrics | null, override: Record<string, unknown> = {}): void {
  mkdirSync(run.dir, { recursive: true });
  const o = resolveTrainOptions({}, run.settings);
  const { backend: _b, out: _o, workers: _w, ...rest } = o;
  writeFileSync(
    join(run.dir, 'config.json'),
    JSON.stringify({ train: { ...rest, data: resolve(o.data), model: { ...o.model, classes: CLASSES }, ...override } }),
  );
  writeFileSync(join(run.dir, 'last.json'), '{}');
  if (finished)
    writeFileSync(
      join(run.dir, 'results.json'),
      JSON.stringify({ split: 'test', fold: run.fold, selectedOn: 'val', bestEpoch: 1, metrics: finished }),
    );
}

const startEvent = (resumedFrom?: { epoch: number; step: number }): TrainEvent => ({
  type: 'run-start',
  runDir: 'x',
  epochs: 3,
  stepsPerEpoch: 4,
  trainClips: 8,
  valClips: 2,
  testClips: 8,
  classes: CLASSES,
  backend: 'cpu',
  selectOn: 'val',
  ...(resumedFrom ? { resumedFrom } : {}),
});

/** A fake `dfer train`: resumes when the directory has a run, emits a few events, writes the results. */
function fakeRunner(
  metricsOf: (run: GridRun) => Metrics,
  opts: { delayMs?: number; fail?: (run: GridRun) => { code: number; error?: string } | undefined } = {},
) {
  const calls: { id: string; resumed: boolean; args: string[] }[] = [];
  let active = 0;
  let maxActive = 0;
  const runner: RunRunner = async (run, { onEvent, signal }) => {
    active++;
    maxActive = Math.max(maxActive, active);
    try {
      const resumed = existsSync(join(run.dir, 'config.json'));
      calls.push({ id: run.id, resumed, args: run.args });
      onEvent(startEvent(resumed ? { epoch: 1, step: 2 } : undefined));
      writeRun(run, null);
      await new Promise((r) => setTimeout(r, opts.delayMs ?? 5));
      const failure = opts.fail?.(run);
      if (failure) return failure;
      if (signal.aborted) return { code: 130 };
      const m = metricsOf(run);
      onEvent({
        type: 'epoch-end',
        epoch: 3,
        epochs: 3,
        trainLoss: { total: 1, ce: 1, ial: 0, aux: 0 },
        val: m,
        best: true,
        bestEpoch: 3,
        seconds: 1,
      });
      writeRun(run, m);
      return { code: 0 };
    } finally {
      active--;
    }
  };
  return { runner, calls, maxActive: () => maxActive };
}

describe('axes from the flags', () => {
  test('--gca --ial are axes, --no-gca fixes an option; a list of one value is an option, not an axis', () => {
    expect(axesFromFlags({ gca: true, ial: true })).toEqual({ axes: { gca: true, ial: true }, fixed: {} });
    expect(axesFromFlags({ gca: false, attention: 'se,gca', aux: 'both', lambda: '0.3', r: '8,16' })).toEqual({
      axes: { attention: ['se', 'gca'], aux: [false, true], r: [8, 16] },
      fixed: { gca: false, lambda: 0.3 },
    });
    expect(axesFromFlags({ aux: 'off', attention: 'cbam' })).toEqual({
      axes: {},
      fixed: { aux: false, attention: 'cbam' },
    });
    expect(() => axesFromFlags({ attention: 'se,xyz' })).toThrow(
      '--attention se,xyz: "xyz" is not one of none, se, cbam, gca',
    );
  });
});

describe('grid expansion', () => {
  test("--gca --ial: Table 1's 2x2 grid, repeated per fold and seed, each run an ordinary train command", () => {
    const s = spec({ gca: true, ial: true }, { folds: ['1', '2'], seeds: [1, 2] });
    const plan = expandGrid(s);
    expect(plan.columns).toEqual(['GCA', 'IAL']);
    expect(plan.settings.map((x) => x.name)).toEqual(['no-gca-no-ial', 'no-gca-ial', 'gca-no-ial', 'gca-ial']);
    expect(plan.settings.map((x) => Object.values(x.values).join(''))).toEqual(['✗✗', '✗✓', '✓✗', '✓✓']);
    expect(plan.runs).toHaveLength(16);
    // Pair-major: the four settings of (fold 1, seed 1) first, so a stopped grid leaves complete pairs.
    expect(plan.runs.slice(0, 5).map((r) => r.id)).toEqual([
      'no-gca-no-ial/fold1-seed1',
      'no-gca-ial/fold1-seed1',
      'gca-no-ial/fold1-seed1',
      'gca-ial/fold1-seed1',
      'no-gca-no-ial/fold2-seed1',
    ]);
    const run = plan.runs.find((r) => r.id === 'gca-no-ial/fold2-seed1')!;
    expect(run.dir).toBe(join(s.out, 'gca-no-ial', 'fold2-seed1'));
    expect(run.args).toEqual([
      'train',
      '--data',
      'data/synth',
      '--preset',
      'small',
      '--epochs',
      '3',
      '--gca',
      '--no-ial',
      '--fold',
      '2',
      '--seed',
      '1',
      '--out',
      run.dir,
    ]);
    const o = resolveTrainOptions({}, plan.runs.find((r) => r.id === 'no-gca-no-ial/fold1-seed2')!.settings);
    expect([o.model.attention, o.loss.ial, o.seed, o.fold]).toEqual(['none', false, 2, '1']);
  });

  test('--attention none,se,gca --aux both: Table 2; the aux axis does not apply without attention', () => {
    const plan = expandGrid(spec({ attention: ['none', 'se', 'gca'], aux: [false, true] }));
    expect(plan.settings.map((x) => x.name)).toEqual(['none', 'se-no-aux', 'se-aux', 'gca-no-aux', 'gca-aux']);
    expect(plan.settings[0].values).toEqual({ attention: 'none', aux: '-' });
    expect(plan.runs.find((r) => r.setting === 'none')!.args).not.toContain('--aux');
    expect(plan.runs.find((r) => r.setting === 'se-no-aux')!.args).toEqual(
      expect.arrayContaining(['--attention', 'se', '--no-aux']),
    );
  });

  test('--ial with --lambda: lambda does not apply without IAL; --lambda --r: Table 3', () => {
    const t = expandGrid(spec({ ial: true, lambda: [0.1, 0.3] }));
    expect(t.settings.map((x) => x.name)).toEqual(['no-ial', 'ial-lambda0.1', 'ial-lambda0.3']);
    const t3 = expandGrid(spec({ lambda: [0.1, 0.15, 0.3], r: [8, 16] }));
    expect(t3.columns).toEqual(['λ', 'r']);
    expect(t3.settings.map((x) => x.name)).toEqual([
      'lambda0.1-r8',
      'lambda0.1-r16',
      'lambda0.15-r8',
      'lambda0.15-r16',
      'lambda0.3-r8',
      'lambda0.3-r16',
    ]);
    expect(resolveTrainOptions({}, t3.runs[3].settings).model.reduction).toBe(16);
    expect(expandGrid(spec({})).settings.map((x) => x.name)).toEqual(['default']);
  });

  test("the dataset protocol's values stay off each run's command line (the run resolves them), unless an axis sets them", () => {
    const plan = expandGrid(
      spec(
        { lambda: [0.1, 0.3] },
        {
          base: { data: 'data/ferv', preset: 'small', u: 8, v: 2, epochs: 100, lambda: 0.1 },
          implicit: ['u', 'v', 'epochs', 'lambda'],
        },
      ),
    );
    const args = plan.runs[1].args;
    expect(args).toEqual([
      'train',
      '--data',
      'data/ferv',
      '--preset',
      'small',
      '--lambda',
      '0.3',
      '--fold',
      '1',
      '--seed',
      '1',
      '--out',
      plan.runs[1].dir,
    ]);
    // ... while the run's settings (what a finished run is compared with) hold them all.
    expect(plan.runs[1].settings).toMatchObject({ u: 8, v: 2, epochs: 100, lambda: 0.3 });
  });

  test('bad grids are refused before anything runs', () => {
    expect(() => expandGrid(spec({ gca: true, attention: ['se', 'gca'] }))).toThrow(/give one of them/);
    expect(() => expandGrid(spec({ gca: true }, { base: { data: 'd', attention: 'se' } }))).toThrow(
      /gca contradicts --attention se/,
    );
    expect(() => expandGrid(spec({ ial: true }, { base: {} }))).toThrow(/--data is required/);
    expect(() => expandGrid(spec({ r: [8, 8] }))).toThrow(/lists 8 twice/);
    expect(() => expandGrid(spec({}, { folds: [] }))).toThrow(OptionError);
    expect(parseIntList('seeds', '1-3,7')).toEqual([1, 2, 3, 7]);
    expect(() => parseIntList('seeds', '1,a')).toThrow(/--seeds 1,a/);
    expect(parseNumberList('lambda', '0.1, 0.15,0.3')).toEqual([0.1, 0.15, 0.3]);
    expect(() => parseNumberList('lambda', '0.1,,0.3')).toThrow(/--lambda/);
    expect(settingsToArgs({ weightDecay: 0.1, augment: false, selectOn: 'test', lr: undefined })).toEqual([
      '--weight-decay',
      '0.1',
      '--no-augment',
      '--select-on',
      'test',
    ]);
  });
});

describe('running the grid (fake runner)', () => {
  test('--jobs 2 runs two at a time; every run ends with results; the tables are written', async () => {
    const plan = expandGrid(spec({ gca: true, ial: true }, { folds: ['1', '2'] }));
    const byId = new Map(plan.runs.map((r, k) => [r.id, metricsFor(k)]));
    const fake = fakeRunner((r) => byId.get(r.id)!, { delayMs: 20 });
    const events: AblateEvent[] = [];
    const result = await runGrid(plan, { jobs: 2, runner: fake.runner, emit: (e) => events.push(e), classes: CLASSES });
    expect(fake.maxActive()).toBe(2);
    expect(fake.calls.map((c) => c.id).sort()).toEqual(plan.runs.map((r) => r.id).sort());
    expect(result.failed).toEqual([]);
    expect(result.interrupted).toBe(false);
    expect(events[0].type).toBe('grid-start');
    expect(events.at(-1)!.type).toBe('grid-end');
    expect(events.filter((e) => e.type === 'run-end' && e.status === 'done')).toHaveLength(8);
    expect(events.filter((e) => e.type === 'run-event')).toHaveLength(16);
    // The table: each setting over its two folds.
    const row = result.table.rows.find((r) => r.setting === 'gca-ial')!;
    const ms = plan.runs.filter((r) => r.setting === 'gca-ial').map((r) => byId.get(r.id)!);
    expect(row.runs).toBe(2);
    expect(row.uar.mean).toBeCloseTo((ms[0].uar + ms[1].uar) / 2, 12);
    expect(row.uar.sd).toBeCloseTo(Math.abs(ms[0].uar - ms[1].uar) / Math.SQRT2, 12);
    expect(result.files.map((f) => f.slice(plan.out.length + 1))).toEqual([
      'results.md',
      'results.csv',
      'results.json',
      'results-confusion.svg',
      'results-confusion.png',
    ]);
    const json = JSON.parse(readFileSync(join(plan.out, 'results.json'), 'utf8'));
    expect(json.cells).toHaveLength(4);
    expect(json.cells[3]).toMatchObject({ setting: 'gca-ial', values: { gca: true, ial: true }, runs: 2 });
    expect(json.cells[3].uar).toBeCloseTo(row.uar.mean, 12);
  });

  test('a second invocation skips finished runs and resumes stopped and killed ones with the same command', async () => {
    const plan = expandGrid(spec({ ial: true }, { folds: ['1', '2'] }));
    const m = (r: GridRun) => metricsFor(plan.runs.indexOf(r));
    // First invocation: one run is killed (SIGKILL, code 137), one stopped (130), the others finish.
    const first = fakeRunner(m, {
      fail: (r) =>
        r.id === 'ial/fold1-seed1'
          ? { code: 137, error: 'killed' }
          : r.id === 'no-ial/fold2-seed1'
            ? { code: 130 }
            : undefined,
    });
    const r1 = await runGrid(plan, { jobs: 1, runner: first.runner, classes: CLASSES });
    expect(r1.failed).toEqual(['ial/fold1-seed1']);
    expect(r1.failures[0]).toEqual({ id: 'ial/fold1-seed1', code: 137, error: 'killed' });
    expect(r1.interrupted).toBe(true);
    expect(r1.table.rows.map((r) => [r.runs, r.expected])).toEqual([
      [1, 2],
      [1, 2],
    ]);
    // Second: only the two unfinished runs, each resumed from its directory, with the command line of the first time.
    const second = fakeRunner(m);
    const events: AblateEvent[] = [];
    const r2 = await runGrid(plan, { jobs: 2, runner: second.runner, classes: CLASSES, emit: (e) => events.push(e) });
    expect(second.calls.map((c) => [c.id, c.resumed]).sort()).toEqual([
      ['ial/fold1-seed1', true],
      ['no-ial/fold2-seed1', true],
    ]);
    expect(second.calls.find((c) => c.id === 'ial/fold1-seed1')!.args).toEqual(
      first.calls.find((c) => c.id === 'ial/fold1-seed1')!.args,
    );
    const start = events[0] as Extract<AblateEvent, { type: 'grid-start' }>;
    expect(start.finished.map((f) => f.id).sort()).toEqual(['ial/fold2-seed1', 'no-ial/fold1-seed1']);
    expect(r2.failed).toEqual([]);
    expect(r2.interrupted).toBe(false);
    expect(r2.table.rows.every((r) => r.runs === 2)).toBe(true);
    // Third: nothing left to run.
    const third = fakeRunner(m);
    await runGrid(plan, { jobs: 2, runner: third.runner, classes: CLASSES });
    expect(third.calls).toEqual([]);
  });

  test('an abort stops starting runs; the running one is told (it saves) and the table holds what finished', async () => {
    const plan = expandGrid(spec({ gca: true, ial: true }));
    const controller = new AbortController();
    const fake = fakeRunner((r) => metricsFor(plan.runs.indexOf(r)), { delayMs: 30 });
    let starts = 0;
    const result = await runGrid(plan, {
      jobs: 1,
      runner: fake.runner,
      signal: controller.signal,
      classes: CLASSES,
      emit: (e) => {
        if (e.type === 'run-start' && ++starts === 2) controller.abort(); // Ctrl-C during the second run
      },
    });
    expect(fake.calls).toHaveLength(2);
    expect(result.interrupted).toBe(true);
    expect(result.failed).toEqual([]);
    expect(result.table.rows.map((r) => r.runs)).toEqual([1, 0, 0, 0]);
    expect(existsSync(join(plan.out, 'results.md'))).toBe(true);
    const view = ablateView({ type: 'grid-end', ...result }, plan.out);
    expect(view.text.join('\n')).toMatch(/run the same command again/);
    expect((view.json as { complete: boolean }).complete).toBe(false);
  });

  test('a run directory of other options is refused; more epochs continue a finished run', async () => {
    const plan = expandGrid(spec({ ial: true }));
    writeRun(plan.runs[0], metricsFor(0), { optimizer: { lr: 0.5, momentum: 0.9, weightDecay: 0.1 } });
    await expect(
      runGrid(plan, { jobs: 1, runner: fakeRunner(() => metricsFor(0)).runner, classes: CLASSES }),
    ).rejects.toThrow(/no-ial\/fold1-seed1 holds a run with other options \(optimizer\.lr: 0\.5 -> 0\.001\)/);

    const longer = expandGrid({
      ...spec({ ial: true }),
      out: plan.out,
      base: { data: 'data/synth', preset: 'small', epochs: 5 },
    });
    for (const r of longer.runs)
      writeRun(r, metricsFor(1), {
        epochs: 3,
        schedule: { ...resolveTrainOptions({}, r.settings).schedule, epochs: 3 },
      });
    const fake = fakeRunner(() => metricsFor(2));
    await runGrid(longer, { jobs: 1, runner: fake.runner, classes: CLASSES });
    expect(fake.calls.map((c) => c.resumed)).toEqual([true, true]);
  });

  test('runner errors become failed runs with their message', async () => {
    const plan = expandGrid(spec({ ial: true }));
    const runner: RunRunner = async (run) => {
      if (run.setting === 'ial') throw new Error('spawn failed');
      return { code: 3, error: 'fold 1: 3 training clips, fewer than one batch of 8; lower --batch' };
    };
    const result = await runGrid(plan, { jobs: 2, runner, classes: CLASSES });
    expect(result.failures.map((f) => [f.id, f.code, f.error])).toEqual([
      ['no-ial/fold1-seed1', 3, 'fold 1: 3 training clips, fewer than one batch of 8; lower --batch'],
      ['ial/fold1-seed1', 1, 'spawn failed'],
    ]);
    expect(result.table.rows.every((r) => r.runs === 0 && Number.isNaN(r.uar.mean))).toBe(true);
    expect(tableCells(result.table).rows[0]).toEqual(['✗', '0/1', 'n/a', 'n/a', 'baseline', '', '', '']);
    expect(tableCells(result.table).rows[1].slice(4)).toEqual(['n/a', '', 'n/a', '']); // no pairs at all
  });
});

describe('the table', () => {
  const m = (
    uar: number,
    war: number,
    perClass: number[],
    support: number[],
    byIntensity?: Metrics['byIntensity'],
  ): Metrics => ({ uar, war, perClass, support, confusion: [], ...(byIntensity ? { byIntensity } : {}) });

  test('mean and sample sd over runs; a class is averaged over the runs that have it; intensity bins likewise', () => {
    const bins = (r: number[], clips: number[]) =>
      r.map((recall, k) => ({ lo: k / 4, hi: (k + 1) / 4, clips: clips[k], recall }));
    const runs = [
      m(0.5, 0.6, [0.4, 0.9], [10, 5], bins([0.1, 0.2, 0.3, 0.4], [5, 5, 5, 5])),
      m(0.6, 0.7, [0.6, 0.0], [10, 0], bins([0.3, 0.4, 0.5, 0.6], [5, 5, 0, 5])),
      m(0.7, 0.8, [0.8, 0.7], [10, 5], bins([0.5, 0.6, 0.7, 0.8], [5, 5, 5, 5])),
    ];
    const a = aggregateSetting(runs, 2);
    expect(a.uar.mean).toBeCloseTo(0.6, 12);
    expect(a.uar.sd).toBeCloseTo(0.1, 12);
    expect(a.war.mean).toBeCloseTo(0.7, 12);
    expect(a.perClass[0].mean).toBeCloseTo(0.6, 12);
    expect(a.perClass[0].sd).toBeCloseTo(0.2, 12);
    expect(a.perClass[1].mean).toBeCloseTo(0.8, 12); // the run without clips of class 1 is left out
    expect(a.perClass[1].sd).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(a.byIntensity!.map((b) => b.clips)).toEqual([15, 15, 10, 15]);
    expect(a.byIntensity![0].recall.mean).toBeCloseTo(0.3, 12);
    expect(a.byIntensity![2].recall.mean).toBeCloseTo(0.5, 12); // (0.3 + 0.7) / 2: the empty bin is left out
    expect(aggregateSetting([runs[0]], 2).uar.sd).toBeNaN();
    expect(meanSdText({ mean: 0.56514, sd: 0.01234 })).toBe('56.51 ± 1.23');
    expect(meanSdText({ mean: 0.5, sd: NaN })).toBe('50.00');
    expect(meanSdText({ mean: NaN, sd: NaN })).toBe('n/a');
  });

  test('text, Markdown, CSV and JSON forms, with per-intensity recall columns when the data has intensity', async () => {
    const plan = expandGrid(spec({ gca: true }, { folds: ['1', '2'] }));
    const withBins = (k: number): Metrics => ({
      ...metricsFor(k),
      byIntensity: [0, 1, 2, 3].map((b) => ({ lo: b / 4, hi: (b + 1) / 4, clips: 4, recall: (b + k) / 10 })),
    });
    // k numbers the runs setting-major (no-gca fold 1, no-gca fold 2, gca fold 1, gca fold 2), whatever order they run
    // in.
    const k = (r: GridRun) => plan.settings.findIndex((s) => s.name === r.setting) * 2 + (r.fold - 1);
    const result = await runGrid(plan, { jobs: 1, runner: fakeRunner((r) => withBins(k(r))).runner, classes: CLASSES });
    const t = result.table;
    const cells = tableCells(t);
    expect(cells.header).toEqual([
      'GCA',
      'runs',
      'UAR (%)',
      'WAR (%)',
      'recall I 0.00-0.25',
      'recall I 0.25-0.50',
      'recall I 0.50-0.75',
      'recall I 0.75-1.00',
      'ΔUAR vs no-gca [95% CI]',
      'p',
      'ΔWAR [95% CI]',
      'p',
    ]);
    // Paired by fold: gca's runs 2, 3 against no-gca's runs 0, 1 (fold 1 with fold 1, fold 2 with fold 2).
    const v = t.rows[1].vsBaseline!;
    const uars = [0, 1, 2, 3].map((k) => metricsFor(k).uar);
    expect(v.uar.diff).toBeCloseTo((uars[2] - uars[0] + uars[3] - uars[1]) / 2, 12);
    expect(v.uar.pairs).toBe(2);
    // Intensity bin b recalls (b + k) / 10: every pair differs by exactly 0.2, so the interval is [0.2, 0.2].
    expect(v.byIntensity!.map((b) => [b.diff, b.ci, b.pairs])).toEqual(
      [0, 1, 2, 3].map(() => [expect.closeTo(0.2, 12), [expect.closeTo(0.2, 12), expect.closeTo(0.2, 12)], 2]),
    );
    expect(cells.rows[0].slice(8)).toEqual(['baseline', '', '', '']);
    expect(t.rows[0].vsBaseline).toBeUndefined();
    // Runs 0 and 1 are no-gca folds 1 and 2: intensity bin 0 recalls 0.0 and 0.1.
    expect(cells.rows[0][4]).toBe('5.00 ± 7.07');
    const md = ablationMarkdown(t);
    expect(md).toMatch(/^Test-split UAR and WAR \(%\), mean ± sample sd over 2 folds \(1,2\) x seed 1\./);
    expect(md).toContain('| GCA | runs | UAR (%) | WAR (%) |');
    expect(md).toContain('`dfer train --data data/synth --preset small --epochs 3`');
    const csv = ablationCsv(t).trim().split('\n');
    expect(csv[0].split(',').slice(0, 8)).toEqual([
      'setting',
      'gca',
      'runs',
      'expected_runs',
      'uar_mean',
      'uar_sd',
      'war_mean',
      'war_sd',
    ]);
    expect(csv[0]).toContain('recall_intensity_0.75-1.00_sd');
    const row = csv[1].split(',');
    expect(row.slice(0, 4)).toEqual(['no-gca', 'off', '2', '2']);
    expect(Number(row[4])).toBeCloseTo(t.rows[0].uar.mean, 6);
    const json = ablationJson(t) as { cells: { setting: string; uar: number; war: number; by_intensity: unknown[] }[] };
    expect(json.cells.map((c) => c.setting)).toEqual(['no-gca', 'gca']);
    expect(json.cells[1].war).toBeCloseTo(t.rows[1].war.mean, 12);
    expect(json.cells[0].by_intensity).toHaveLength(4);
    const vs = (
      json.cells[1] as unknown as {
        vs_baseline: {
          baseline: string;
          uar: { diff: number; ci: number[]; p: number };
          by_intensity: { p: number }[];
        };
      }
    ).vs_baseline;
    expect(vs.baseline).toBe('no-gca');
    expect(vs.uar.diff).toBeCloseTo(v.uar.diff, 12);
    expect(vs.uar.ci).toEqual(v.uar.ci);
    expect(vs.by_intensity[0].p).toBe(0.5); // two pairs, both +0.2: 2 of the 4 sign patterns are as extreme
    expect('vs_baseline' in json.cells[0]).toBe(false);
    expect(md).toContain('95% CI: percentile bootstrap over the pairs; p: exact paired sign-flip test');
    expect(csv[0]).toContain('uar_diff,uar_ci_low,uar_ci_high,uar_p,uar_pairs');
    // The intensity figure: one line per setting in the recall panel.
    expect(result.files.map((f) => basename(f))).toEqual([
      'results.md',
      'results.csv',
      'results.json',
      'results-intensity.svg',
      'results-intensity.png',
      'results-confusion.svg',
      'results-confusion.png',
    ]);
    const svg = intensityFigure(t)!;
    expect(svg).toContain('>recall<');
    expect(svg.match(/<path d=/g)).toHaveLength(2);
  });
});

describe('the confusion figure', () => {
  test("each setting's confusion matrix summed over its runs, side by side, written with the tables", async () => {
    const plan = expandGrid(spec({ gca: true }, { folds: ['1', '2'] }));
    const k = (r: GridRun) => plan.settings.findIndex((s) => s.name === r.setting) * 2 + (r.fold - 1);
    const result = await runGrid(plan, {
      jobs: 1,
      runner: fakeRunner((r) => metricsFor(k(r))).runner,
      classes: CLASSES,
    });
    expect(result.files).toEqual(
      expect.arrayContaining([join(plan.out, 'results-confusion.svg'), join(plan.out, 'results-confusion.png')]),
    );
    const svg = readFileSync(join(plan.out, 'results-confusion.svg'), 'utf8');
    expect(svg.match(/<svg /g)).toHaveLength(3); // the page and one figure per setting
    expect(svg).toContain('no-gca: 2 runs, UAR');
    // The happiness row's diagonal of no-gca sums runs 0 and 1: (4 + 0 % 5) + (4 + 1 % 5) = 9.
    const happy = (m: number) => metricsFor(m).confusion[0][0];
    expect(happy(0) + happy(1)).toBe(9);
    const noGca = svg.slice(
      svg.indexOf('no-gca: 2 runs'),
      svg.indexOf('gca: 2 runs', svg.indexOf('no-gca: 2 runs') + 10),
    );
    expect(noGca).toMatch(/font-weight="bold"[^>]*>9</);
    // One setting: nothing to compare, no figure.
    const single = await runGrid(expandGrid(spec({})), {
      jobs: 1,
      runner: fakeRunner(() => metricsFor(0)).runner,
      classes: CLASSES,
    });
    expect(single.files.some((f) => f.includes('results-confusion'))).toBe(false);
  });
});

describe('reporting', () => {
  test('plain lines on stderr: the grid, starts, epochs with validation, ends; state counts the runs', async () => {
    const plan = expandGrid(spec({ ial: true }));
    const lines: string[] = [];
    const reporter = createAblateReporter('plain', 'dfer ablate', {
      stderr: { write: (s: string) => (lines.push(s), true) },
    });
    let state = initialAblateState();
    const runner = fakeRunner((r) => metricsFor(plan.runs.indexOf(r)), {
      fail: (r) => (r.setting === 'ial' ? { code: 3, error: 'bad' } : undefined),
    }).runner;
    await runGrid(plan, {
      jobs: 1,
      runner,
      classes: CLASSES,
      emit: (e) => {
        reporter.onEvent(e);
        state = reduceAblate(state, e);
      },
    });
    const text = lines.join('');
    expect(text).toContain(
      `dfer ablate: grid ${plan.out}: 2 settings x 1 fold x 1 seed = 2 runs; 0 finished before, 2 to run, 1 at a time\n`,
    );
    expect(text).toContain('dfer ablate: start no-ial/fold1-seed1\n');
    expect(text).toMatch(/dfer ablate: no-ial\/fold1-seed1: epoch 3\/3 val UAR \d+\.\d\d% WAR \d+\.\d\d%\n/);
    expect(text).toMatch(/dfer ablate: done no-ial\/fold1-seed1: test UAR \d+\.\d\d% WAR \d+\.\d\d%/);
    expect(text).toMatch(/dfer ablate: failed ial\/fold1-seed1 \(exit 3\): bad/);
    expect(text).toContain('dfer ablate: grid finished: 1 of 2 runs done, 1 failed\n');
    expect(text).not.toMatch(/\x1b\[/);
    expect(state.runs.map((r) => r.status)).toEqual(['done', 'failed']);
    expect(state.log).toHaveLength(2);

    const json: string[] = [];
    const jr = createAblateReporter('json', 'dfer ablate', { stderr: { write: (s: string) => (json.push(s), true) } });
    await runGrid(expandGrid(spec({ ial: true })), {
      jobs: 1,
      runner: fakeRunner(() => metricsFor(0)).runner,
      classes: CLASSES,
      emit: (e) => jr.onEvent(e),
    });
    const parsed = json
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(parsed.map((p) => p.type)).toEqual([
      'grid',
      'run-start',
      'run-epoch',
      'run-end',
      'run-start',
      'run-epoch',
      'run-end',
      'grid-end',
    ]);
    expect(parsed[2]).toMatchObject({ run: 'no-ial/fold1-seed1', epoch: 3, epochs: 3 });
  });

  test('tty: a live grid of glyphs per fold and seed, the running runs with their validation UAR, finished runs above', async () => {
    class FakeTty extends EventEmitter {
      frames: string[] = [];
      isTTY = true;
      columns = 100;
      write(chunk: string): boolean {
        this.frames.push(chunk.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ''));
        return true;
      }
    }
    const tty = new FakeTty();
    const plan = expandGrid(spec({ gca: true }, { seeds: [1, 2] }));
    const reporter = createAblateReporter('tty', 'dfer ablate', { stderr: tty, debug: true, redrawMs: 0 });
    let frameWhileRunning = '';
    const fake = fakeRunner((r) => metricsFor(plan.runs.indexOf(r)), { delayMs: 10 });
    const runner: RunRunner = async (run, hooks) => {
      if (run.id === 'gca/fold1-seed2') {
        hooks.onEvent(startEvent());
        hooks.onEvent({
          type: 'epoch-end',
          epoch: 1,
          epochs: 3,
          trainLoss: { total: 1, ce: 1, ial: 0, aux: 0 },
          val: metricsFor(9),
          best: true,
          bestEpoch: 1,
          seconds: 1,
        });
        frameWhileRunning = tty.frames.at(-1)!;
      }
      return fake.runner(run, hooks);
    };
    await runGrid(plan, { jobs: 1, runner, classes: CLASSES, emit: (e) => reporter.onEvent(e) });
    reporter.finish();
    expect(frameWhileRunning).toMatch(/setting +1\/1 1\/2 \(fold\/seed\)/);
    expect(frameWhileRunning).toMatch(/no-gca +✓ +✓ +\d+\.\d\d ± \d+\.\d\d/);
    // Pair-major order: both settings of seed 1 ran before seed 2's.
    expect(frameWhileRunning).toMatch(/gca +✓ +▶ /);
    expect(frameWhileRunning).toMatch(/▶ gca\/fold1-seed2 .*epoch 2\/3 val UAR \d+\.\d\d/);
    expect(frameWhileRunning).toMatch(/3 done · 1 running · 0 queued · 1 at a time/);
    expect(frameWhileRunning).toMatch(/✓ done no-gca\/fold1-seed1: test UAR/);
    expect([...tty.frames].reverse().find((f) => f.includes(' at a time'))).toMatch(/4 done · 0 running · 0 queued/);
  });

  test('tty with the Slurm executor: pending cells (○), the job, "on Slurm" instead of a job count; lines for submission and pending', () => {
    class FakeTty extends EventEmitter {
      frames: string[] = [];
      isTTY = true;
      columns = 100;
      write(chunk: string): boolean {
        this.frames.push(chunk.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ''));
        return true;
      }
    }
    const plan = expandGrid(spec({ gca: true }));
    const events: AblateEvent[] = [
      { type: 'grid-start', plan, jobs: 0, executor: 'slurm', finished: [] },
      { type: 'submitted', job: '40', runs: plan.runs.map((r) => r.id), script: '/g/slurm/array-1.sbatch' },
      { type: 'run-pending', id: 'no-gca/fold1-seed1', job: '40_0' },
      { type: 'run-pending', id: 'gca/fold1-seed1', job: '40_1' },
      { type: 'run-start', id: 'no-gca/fold1-seed1' },
    ];
    const tty = new FakeTty();
    const reporter = createAblateReporter('tty', 'dfer ablate', { stderr: tty, debug: true, redrawMs: 0 });
    for (const e of events) reporter.onEvent(e);
    const frame = tty.frames.at(-1)!;
    reporter.finish();
    expect(frame).toMatch(/no-gca +▶/);
    expect(frame).toMatch(/gca +○/);
    expect(frame).toMatch(/0 done · 1 running · 1 pending in Slurm \(job 40\) · on Slurm/);

    const lines: string[] = [];
    const plain = createAblateReporter('plain', 'dfer ablate', {
      stderr: { write: (c: string) => (lines.push(c), true) },
    });
    for (const e of events) plain.onEvent(e);
    expect(lines.join('')).toContain('2 to run, on Slurm\n');
    expect(lines.join('')).toContain('dfer ablate: submitted Slurm job array 40: 2 tasks (/g/slurm/array-1.sbatch)\n');
    expect(lines.join('')).toContain('dfer ablate: pending gca/fold1-seed1 (Slurm task 40_1)\n');
  });
});
