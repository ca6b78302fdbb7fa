// dfer eval --runs ... --baseline ...: finished runs against baseline runs, paired by fold and seed, with the same
// statistics as dfer ablate's tables (src/analysis/paired.ts). The runs are written as the trainer leaves them
// (config.json, results.json), with test metrics chosen so that the answers are known.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareRunSets } from '../../src/train/eval-run.js';
import { metricsOf } from '../ui/script.js';
import { dfer, json } from '../cli/run.js';

const CLASSES = ['happiness', 'sadness'];

/** A finished run whose test split recalls `hits` of 10 clips of each class. */
function writeRun(dir: string, fold: string, seed: number, hits: [number, number]): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ train: { seed, fold, model: { classes: CLASSES } } }));
  const metrics = metricsOf([
    [hits[0], 10 - hits[0]],
    [10 - hits[1], hits[1]],
  ]);
  writeFileSync(
    join(dir, 'results.json'),
    JSON.stringify({ split: 'test', fold, selectedOn: 'val', bestEpoch: 1, metrics }),
  );
  return dir;
}

describe('runs against baseline runs', () => {
  const root = mkdtempSync(join(tmpdir(), 'dfer-compare-'));
  // Baseline recalls 5/10 and 6/10 on every fold; ours one clip more of each class on folds 1-3 (+10 points), and
  // a fold 4 the baseline lacks.
  const base = [1, 2, 3].map((k) => writeRun(join(root, 'base', `fold${k}`), String(k), 1, [5, 6]));
  const ours = [1, 2, 3].map((k) => writeRun(join(root, 'ours', `fold${k}`), String(k), 1, [6, 7]));
  const extra = writeRun(join(root, 'ours', 'fold4'), '4', 1, [9, 9]);

  test('every pair +10 points: the difference, a degenerate interval, the exact p of 3 pairs (2/8), the unpaired run named', () => {
    const v = compareRunSets([...ours, extra], base);
    expect(v.uar.diff).toBeCloseTo(0.1, 12);
    expect(v.uar.ci![0]).toBeCloseTo(0.1, 12);
    expect(v.uar.ci![1]).toBeCloseTo(0.1, 12);
    expect(v.uar.p).toBeCloseTo(0.25, 12);
    expect(v.war.pairs).toBe(3);
    expect(v.unpaired).toEqual([extra]);
  });

  test('pairs are fold AND seed: another seed pairs with nothing; two runs of one fold and seed are refused', () => {
    const seed2 = writeRun(join(root, 'seed2', 'fold1'), '1', 2, [6, 7]);
    expect(() => compareRunSets([seed2], base)).toThrow(
      /no run of --baseline has the fold and seed of a run of --runs \(runs: fold 1, seed 2; baseline: fold 1, seed 1; fold 2, seed 1; fold 3, seed 1\)/,
    );
    const twin = writeRun(join(root, 'twin', 'fold1'), '1', 1, [6, 7]);
    expect(() => compareRunSets([ours[0], twin], base)).toThrow(
      /--runs: .*fold1 and .*twin\/fold1 are both fold 1, seed 1; give one run per fold and seed/,
    );
  });

  test('the CLI: --runs-dir with --baseline-dir, as text and as JSON', async () => {
    const r = await dfer([
      'eval',
      '--runs-dir',
      join(root, 'ours'),
      '--baseline-dir',
      join(root, 'base'),
      '--folds',
      '1-3',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const doc = json<{
      mean: { uar: number };
      vs_baseline: { baseline: string; uar: { diff: number; ci: number[]; p: number; pairs: number } };
    }>(r);
    expect(doc.vs_baseline.uar.diff).toBeCloseTo(0.1, 12);
    expect(doc.vs_baseline.uar.pairs).toBe(3);
    expect(doc.mean.uar).toBeCloseTo(0.65, 12);
    const text = await dfer(['eval', '--runs', ...ours, '--baseline', ...base]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/against the baseline, paired by fold and seed \(3 pairs\)/);
    expect(text.stdout).toMatch(/UAR +\+10\.00 \[10\.00, 10\.00\] +0\.250/);
    const alone = await dfer(['eval', '--checkpoint', ours[0], '--baseline', base[0]]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--baseline compares finished runs: give them with --runs/);
  });
});
