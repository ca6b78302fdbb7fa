import { Flags } from '@oclif/core';
import {
  aggregateRuns,
  compareRunSets,
  evaluateCheckpoint,
  finishedRunsOfFolds,
  parseFolds,
  runOfFold,
} from '../src/train/eval-run.js';
import { resolveTrainSettings } from '../src/train/options.js';
import { findWorkspace } from '../src/workspace.js';
import { expandStdin } from './_input.js';
import { vsBaselineView, crossValView, evalView } from '../src/ui/eval.js';
import { BaseCommand } from './_base.js';

export default class Eval extends BaseCommand<typeof Eval> {
  static summary = "Evaluate a checkpoint on a fold (the paper's Table 4 row), or aggregate a 5-fold cross-validation.";
  static description =
    `One checkpoint: test-mode sampling (the middle frame of each of U segments), no augmentation. Prints the accuracy of each emotion, UAR and WAR, the confusion matrix (counts and row-normalised %), recall by expression intensity when the data knows it, and writes results.json and confusion.svg/png (to --out, default <run>/eval-fold<k>-<split>/). A run directory is accepted wherever a checkpoint is: its selected checkpoint, data, fold and sampling are used.

Without --checkpoint, the workspace's runs (dfer init; or those of --data): --fold k evaluates the run dfer train --fold k wrote (<runs>/<set>/<preset>-fold<k>); no --fold aggregates every fold that has a finished run and names those that have none.

Several runs (--runs, or --runs-dir with --folds): the DFER protocol's k-fold summary from each run's results.json: per-fold rows and the mean and sample sd of UAR, WAR and per-class recall. With --baseline (or --baseline-dir): each run against the baseline run of the same fold and seed: the mean paired difference in UAR, WAR and recall by intensity, a 95% percentile-bootstrap interval over the pairs and an exact sign-flip p-value (as dfer ablate's tables).

--json prints the results object (uar, war, per_class, confusion, ...).`;

  static examples = [
    {
      description: "The workspace's fold-3 run on fold 3's test split",
      command: '<%= config.bin %> <%= command.id %> --fold 3',
    },
    {
      description: "Every fold of the workspace's runs: mean and sd (the paper's Table 4 row)",
      command: '<%= config.bin %> <%= command.id %>',
    },
    {
      description: 'Runs listed on standard input',
      command: 'ls -d runs/dfew/paper-fold*/ | <%= config.bin %> <%= command.id %> --runs -',
    },
    {
      description: 'The selected checkpoint of a run, on its fold',
      command: '<%= config.bin %> <%= command.id %> --checkpoint runs/dfew/paper-fold3',
    },
    {
      description: 'A checkpoint on fold 3 of a prepared set',
      command: '<%= config.bin %> <%= command.id %> --checkpoint ckpt/paper --data data/dfew --fold 3',
    },
    {
      description: '5-fold cross-validation',
      command: '<%= config.bin %> <%= command.id %> --runs runs/fold1 runs/fold2 runs/fold3 runs/fold4 runs/fold5',
    },
    {
      description: 'The same over a layout runs/dfew/fold<k>',
      command: '<%= config.bin %> <%= command.id %> --runs-dir runs/dfew --folds 1-5',
    },
    {
      description: 'Those runs against baseline runs, pair by pair (fold and seed)',
      command: '<%= config.bin %> <%= command.id %> --runs-dir runs/ours --baseline-dir runs/base --folds 1-5',
    },
  ];

  static flags = {
    checkpoint: Flags.string({
      char: 'c',
      description: 'Checkpoint or run directory.',
      exclusive: ['runs', 'runs-dir'],
    }),
    data: Flags.string({ description: "Prepared set (default: the run's)." }),
    fold: Flags.string({ description: "Fold (default: the run's)." }),
    split: Flags.option({
      options: ['test', 'train'] as const,
      default: 'test' as const,
      description: 'Split to evaluate.',
    })(),
    batch: Flags.integer({ min: 1, default: 8, description: 'Clips per forward pass.' }),
    out: Flags.string({ char: 'o', description: 'Directory for results.json and confusion.svg/png.' }),
    runs: Flags.string({
      multiple: true,
      description:
        'Finished run directories, one per fold, to aggregate; - reads them from standard input, one a line.',
    }),
    'runs-dir': Flags.string({ description: 'Directory holding fold<k>/ runs (with --folds).', dependsOn: ['folds'] }),
    folds: Flags.string({ description: 'Folds of --runs-dir, e.g. 1-5.' }),
    baseline: Flags.string({
      multiple: true,
      description:
        'With --runs/--runs-dir: baseline runs to compare them with, paired by fold and seed (mean difference, 95% bootstrap interval, sign-flip p); - reads them from standard input.',
      exclusive: ['baseline-dir'],
    }),
    'baseline-dir': Flags.string({
      description: 'With --runs-dir: the baseline runs as <dir>/fold<k> (with --folds).',
      dependsOn: ['folds'],
    }),
    workers: Flags.integer({ min: 0, description: 'Loader worker threads.' }),
    'allow-overlap': Flags.boolean({
      description:
        'Score a run on clips it trained or selected on (refused otherwise: its scores would be inflated); recorded in results.json.',
    }),
  };

  async run(): Promise<void> {
    const f = this.flags;
    if (f.runs || f['runs-dir']) {
      const dirs = f.runs
        ? expandStdin(f.runs, '--runs')
        : parseFolds(f.folds!).map((k) => `${f['runs-dir']}/fold${k}`);
      const cv = crossValView(aggregateRuns(dirs));
      const baseline = f.baseline
        ? expandStdin(f.baseline, '--baseline')
        : f['baseline-dir']
          ? parseFolds(f.folds!).map((k) => `${f['baseline-dir']}/fold${k}`)
          : undefined;
      this.out.result(baseline ? vsBaselineView(cv, compareRunSets(dirs, baseline)) : cv);
      return;
    }
    if (f.baseline || f['baseline-dir'])
      this.error('--baseline compares finished runs: give them with --runs (or --runs-dir)', { exit: 2 });
    let checkpoint = f.checkpoint;
    if (!checkpoint) {
      // The workspace's runs (or those of --data): the fold's run, or every finished fold aggregated.
      const resolved = resolveTrainSettings({
        flags: f.data ? { data: f.data } : {},
        env: process.env,
        workspace: findWorkspace(),
        dataFlag: '--checkpoint <run or checkpoint> (or --data <prepared set>)',
      });
      if (!f.fold) {
        const { runs, missing } = finishedRunsOfFolds(resolved);
        const view = crossValView(aggregateRuns(runs));
        if (missing.length)
          view.text.push(
            `folds without a finished run (not in the mean): ${missing.join(', ')}; train them with dfer train --fold <k>`,
          );
        this.out.result({ json: { ...(view.json as object), missing }, text: view.text });
        return;
      }
      checkpoint = runOfFold(resolved, f.fold);
    }
    const r = await evaluateCheckpoint({
      checkpoint,
      data: f.data,
      fold: f.fold,
      split: f.split,
      backend: f.backend,
      batchSize: f.batch,
      out: f.out,
      workers: f.workers,
      allowOverlap: f['allow-overlap'],
      onProgress: (done, total) => this.out.progress({ stage: `eval ${f.split}`, done, total, unit: 'clips' }),
    });
    this.out.result(evalView(r));
  }
}
