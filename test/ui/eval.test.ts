// `dfer eval`'s views (src/ui/eval.ts) and the shared metrics text (src/ui/metrics-text.ts), on hand-computed numbers.
import { aggregateFolds } from '../../src/metrics/aggregate.js';
import { crossValView, evalView, type EvalResults } from '../../src/ui/eval.js';
import { abbreviateClasses, confusionText, duration, lrText } from '../../src/ui/metrics-text.js';
import { CLASSES, metricsOf, TEST } from './script.js';

const results = (over: Partial<EvalResults> = {}): EvalResults => ({
  checkpoint: 'runs/fold1/best.safetensors',
  data: 'data/dfew',
  fold: 1,
  split: 'test',
  classes: CLASSES,
  metrics: TEST,
  files: ['runs/fold1/eval/confusion.svg', 'runs/fold1/eval/confusion.png', 'runs/fold1/eval/results.json'],
  ...over,
});

describe('metrics text', () => {
  test("the paper's abbreviations for DFEW's classes in any spelling; distinct prefixes otherwise", () => {
    expect(abbreviateClasses(CLASSES)).toEqual(['Hap', 'Sad', 'Neu', 'Ang', 'Sur', 'Dis', 'Fea']);
    expect(abbreviateClasses(['Happy', 'Sad', 'Neutral', 'Angry', 'Surprise', 'Disgust', 'Fear'])).toEqual([
      'Hap',
      'Sad',
      'Neu',
      'Ang',
      'Sur',
      'Dis',
      'Fea',
    ]);
    expect(abbreviateClasses(['contempt', 'confusion', 'anxiety'])).toEqual(['Cont', 'Conf', 'Anx']);
    expect(abbreviateClasses(['disgust', 'disappointment'])).toEqual(['Disg', 'Disa']);
  });

  test('confusion text: counts with row totals, then row-normalised %', () => {
    const lines = confusionText(
      [
        [3, 1],
        [0, 0],
      ],
      ['happiness', 'sadness'],
    );
    expect(lines).toEqual([
      'confusion matrix (rows: true class, columns: predicted; counts)',
      'true\\pred  Hap  Sad  clips',
      'Hap          3    1      4',
      'Sad          0    0      0',
      '',
      'row-normalised % (diagonal: recall)',
      'row %   Hap   Sad',
      'Hap    75.0  25.0',
      'Sad       -     -',
    ]);
  });

  test('durations and learning rates', () => {
    expect([duration(45), duration(723), duration(7500), duration(NaN)]).toEqual(['45s', '12m03s', '2h05m', '?']);
    expect([lrText(0.01), lrText(0.0001), lrText(0)]).toEqual(['0.0100', '1.00e-4', '0.0000']);
  });
});

describe('evalView', () => {
  test('Table 4 row, confusion matrix, files; JSON with uar, war, per_class, confusion', () => {
    const v = evalView(results());
    expect(v.text[0]).toBe('runs/fold1/best.safetensors on data/dfew, fold 1, test split: 674 clips');
    // UAR = mean(120/140, 80/115, 90/125, 100/127, 60/85, 3/17, 30/65) = 0.62916; WAR = 483/674 = 0.71662
    expect(v.text).toContain('  Hap    Sad    Neu    Ang    Sur    Dis    Fea    UAR    WAR');
    expect(v.text).toContain('85.71  69.57  72.00  78.74  70.59  17.65  46.15  62.92  71.66');
    expect(v.text).toContain('Dis          2    3    2    5    1    3    1     17');
    expect(v.text).toContain('Dis    11.8  17.6  11.8  29.4   5.9  17.6   5.9');
    expect(v.text.slice(-4)).toEqual([
      'files:',
      '  runs/fold1/eval/confusion.svg',
      '  runs/fold1/eval/confusion.png',
      '  runs/fold1/eval/results.json',
    ]);
    expect(v.text.join('\n')).not.toMatch(/optimistic|intensity/);
    const j = v.json as Record<string, unknown>;
    expect(j.uar).toBeCloseTo(0.629155, 5);
    expect(j.war).toBeCloseTo(483 / 674, 12);
    expect(j.per_class).toMatchObject({ happiness: 120 / 140, disgust: 3 / 17 });
    expect(j.confusion).toEqual(TEST.confusion);
    expect(j.clips).toBe(674);
    expect(j).not.toHaveProperty('warning');
  });

  test('selection on test and recall by intensity are shown', () => {
    const metrics = {
      ...TEST,
      byIntensity: [
        { lo: 0, hi: 0.5, clips: 300, recall: 0.5 },
        { lo: 0.5, hi: 1, clips: 374, recall: 0.8 },
      ],
    };
    const v = evalView(results({ selectedOn: 'test', metrics }));
    expect(v.text[1]).toBe('warning: checkpoint selected on the test split: optimistic, as in DFER repos');
    expect(v.text).toEqual(
      expect.arrayContaining([
        'recall by intensity',
        'intensity  clips  recall',
        '0.00-0.50    300   50.00',
        '0.50-1.00    374   80.00',
      ]),
    );
    expect(v.json).toMatchObject({
      selected_on: 'test',
      warning: 'checkpoint selected on the test split: optimistic, as in DFER repos',
      by_intensity: metrics.byIntensity,
    });
  });
});

describe('crossValView', () => {
  // Two classes, three folds: recalls (a, b) = (0.5, 1), (1, 0.5), (0.75, 0.75); WAR 0.6, 0.7, 0.8.
  const fold = (fold: number, c: number[][], selectedOn?: 'val' | 'test') => ({
    fold,
    metrics: metricsOf(c),
    run: `runs/fold${fold}`,
    selectedOn,
  });
  const agg = aggregateFolds(
    [
      fold(1, [
        [2, 2],
        [0, 4],
      ]), // recalls 0.5, 1 -> UAR 0.75, WAR 6/8
      fold(2, [
        [4, 0],
        [2, 2],
      ]), // recalls 1, 0.5 -> UAR 0.75, WAR 6/8
      fold(
        3,
        [
          [3, 1],
          [1, 3],
        ],
        'test',
      ), // recalls 0.75, 0.75 -> UAR 0.75, WAR 6/8
    ],
    ['happiness', 'sadness'],
  );

  test('per-fold rows, mean and sd rows, mean ± sd line, the optimistic folds named', () => {
    const v = crossValView(agg);
    expect(v.text).toEqual([
      "3-fold cross-validation: accuracy of each emotion, UAR and WAR (%) on each fold's test split",
      'warning: the checkpoint of fold 3 was selected on the test split: optimistic, as in DFER repos',
      '',
      'fold     Hap     Sad    UAR    WAR',
      '1      50.00  100.00  75.00  75.00',
      '2     100.00   50.00  75.00  75.00',
      '3      75.00   75.00  75.00  75.00',
      'mean   75.00   75.00  75.00  75.00',
      'sd     25.00   25.00   0.00   0.00',
      '',
      'UAR 75.00 ± 0.00, WAR 75.00 ± 0.00 (mean ± sample sd over 3 folds)',
      '',
      'runs:',
      '  fold 1: runs/fold1',
      '  fold 2: runs/fold2',
      '  fold 3: runs/fold3',
    ]);
    const j = v.json as {
      mean: { per_class: Record<string, number> };
      sd: { uar: number };
      folds: { fold: number; selected_on?: string }[];
      warning: string;
    };
    expect(j.mean.per_class).toEqual({ happiness: 0.75, sadness: 0.75 });
    expect(j.sd.uar).toBe(0);
    expect(j.folds.map((f) => f.selected_on)).toEqual([undefined, undefined, 'test']);
    expect(j.warning).toMatch(/fold\(s\) 3 was selected on the test split/);
  });

  test('one fold: sd n/a, null in JSON', () => {
    const one = aggregateFolds(
      [
        fold(2, [
          [4, 0],
          [2, 2],
        ]),
      ],
      ['happiness', 'sadness'],
    );
    const v = crossValView(one);
    expect(v.text).toContain('sd       n/a    n/a    n/a    n/a');
    expect(JSON.parse(JSON.stringify(v.json)).sd.uar).toBeNull();
  });
});
