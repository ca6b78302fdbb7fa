import { basename, join, resolve } from 'node:path';
import { Flags } from '@oclif/core';
import {
  ABLATE_DEFAULTS,
  axesFromFlags,
  checkData,
  expandGrid,
  finishGrid,
  parseIntList,
  runGrid,
  spawnTrainRunner,
  AblateError,
  type AblateEvent,
} from '../src/analysis/ablate.js';
import { ATTENTION_TYPES } from '../src/config.js';
import { runOnSlurm, type SlurmOutcome } from '../src/cluster/slurm.js';
import { parseFolds } from '../src/train/eval-run.js';
import {
  launchSettings,
  readConfigFile,
  resolveTrainSettings,
  trainSettingsFromFlags,
  type TrainSettings,
} from '../src/train/options.js';
import { findWorkspace } from '../src/workspace.js';
import { ablateView, createAblateReporter } from '../src/ui/ablate.js';
import { EXIT } from '../src/errors.js';
import { BaseCommand } from './_base.js';
import { EXECUTOR_FLAGS, slurmOptionsFromFlags } from './_executor.js';
import Train from './train.js';

// Every train flag passes through, except those the grid owns (its axes, fold, seed, out) and --resume.
const {
  gca: _gca,
  ial: _ial,
  attention: _attention,
  aux: _aux,
  lambda: _lambda,
  r: _r,
  fold: _fold,
  seed: _seed,
  out: _out,
  resume: _resume,
  data: _data,
  folds: _folds,
  executor: _executor,
  'slurm-opt': _slurmOpt,
  'slurm-header': _slurmHeader,
  wait: _wait,
  collect: _collect,
  retry: _retry,
  ...TRAIN_PASS_THROUGH
} = Train.flags;

export default class Ablate extends BaseCommand<typeof Ablate> {
  static summary =
    "Run the paper's ablation tables as a grid of training runs: --gca --ial, --attention, --aux, --lambda, --r.";
  static description =
    `Flags with several values form the grid, their cross product; each combination (a setting) is trained on every fold of --folds with every seed of --seeds:
- Table 1, baseline, +GCA, +IAL and both: --gca --ial
- Table 2, attention types with and without the auxiliary classifier: --attention se,cbam,gca --aux both
- Table 3, IAL weight x reduction ratio: --lambda 0.1,0.15,0.3 --r 8,16

An axis that does not apply is dropped (aux without attention, lambda without IAL). Every other train flag (--preset, --epochs, --batch, --lr, --config, ...) passes through to every run.

Each run is an ordinary run directory, <out>/<setting>/fold<k>-seed<s>, trained by "dfer train ... --json" in a child process (--jobs at a time), so dfer eval and dfer tsne work on it. The grid is resumable: run the same command again and finished runs (results.json) are skipped, runs stopped midway resume exactly where they were. Ctrl-C stops every running run after its current step (saved).

The table (setting columns, runs, test UAR and WAR as mean ± sample sd over folds and seeds, recall by intensity bin when the data knows intensity, and each setting against the baseline: the mean paired difference in UAR and WAR over the (fold, seed) pairs, its 95% bootstrap interval over the pairs and the exact paired sign-flip p-value) is printed and written to <out>/results.md, results.csv and results.json. --json prints it as JSON: one entry per setting ("cells"), with uar and war.

Exit codes: 0 every run finished; 130 stopped (resumable); 4 some runs failed (the table has the others); 3 bad input.`;

  static examples = [
    {
      description: "Table 1 on fold 1 of the workspace's set (dfer init), into runs/<set>/ablate-gca-ial",
      command: '<%= config.bin %> <%= command.id %> --gca --ial',
    },
    {
      description: 'Table 1 on fold 1 of a synthetic set, small preset',
      command:
        '<%= config.bin %> <%= command.id %> --gca --ial --data data/synth --preset small --epochs 10 --batch 8 --out runs/table1',
    },
    {
      description: 'Table 2 over 5 folds, two runs at a time',
      command:
        '<%= config.bin %> <%= command.id %> --attention se,cbam,gca --aux both --data data/dfew --folds 1-5 --jobs 2 --out runs/table2',
    },
    {
      description: 'Table 3 with 3 seeds',
      command:
        '<%= config.bin %> <%= command.id %> --lambda 0.1,0.15,0.3 --r 8,16 --data data/dfew --seeds 1,2,3 --out runs/table3',
    },
  ];

  static flags = {
    data: Flags.string({ description: "Prepared set (default: the workspace's, see dfer config)." }),
    out: Flags.string({
      char: 'o',
      description:
        'Directory of the grid: <out>/<setting>/fold<k>-seed<s> run directories and the results.* tables (default <runs>/<set>/ablate-<axes>, e.g. runs/dfew/ablate-gca-ial).',
    }),
    folds: Flags.string({
      description: `Folds of every setting, e.g. 1-5 or 1,3 (default ${ABLATE_DEFAULTS.folds}, or the fold of --config, DFER_FOLD or the workspace).`,
      exclusive: ['fold'],
    }),
    fold: Flags.string({ description: 'The same as --folds (dfer train spells one fold so).' }),
    seeds: Flags.string({
      description: `Seeds of every setting, e.g. 1,2,3 or 1-3 (default ${ABLATE_DEFAULTS.seeds}, or --config's seed).`,
    }),
    baseline: Flags.string({
      description:
        'The setting the others are compared with, paired by fold and seed (default: the first, every axis off), e.g. --baseline no-gca-no-ial.',
    }),
    jobs: Flags.integer({
      min: 1,
      default: ABLATE_DEFAULTS.jobs,
      description: 'Runs trained at the same time (child processes).',
    }),
    gca: Flags.boolean({
      allowNo: true,
      description: 'Axis: without and with GCA (attention none, gca). --no-gca: every run without.',
    }),
    ial: Flags.boolean({
      allowNo: true,
      description: 'Axis: without and with the intensity-aware loss. --no-ial: every run without.',
    }),
    attention: Flags.string({ description: `Axis: channel attention types, a list of ${ATTENTION_TYPES.join(', ')}.` }),
    aux: Flags.option({
      options: ['both', 'on', 'off'] as const,
      description: 'Axis (both): without and with the auxiliary classifier; on/off: every run.',
    })(),
    lambda: Flags.string({ description: 'Axis: IAL weights, e.g. 0.1,0.15,0.3.' }),
    r: Flags.string({ description: 'Axis: reduction ratios of the attention MLP, e.g. 8,16.' }),
    ...TRAIN_PASS_THROUGH,
    ...EXECUTOR_FLAGS,
  };

  async run(): Promise<void> {
    const f = this.flags as typeof this.flags & Record<string, unknown>;

    // Pass-through train options, as flags; the axes below add theirs.
    const given = Object.fromEntries(Object.keys(TRAIN_PASS_THROUGH).map((k) => [k, f[k]]));
    const passed: TrainSettings = trainSettingsFromFlags(given);
    if (f.data) passed.data = f.data;
    if (this.argv.some((a) => a === '--backend' || a.startsWith('--backend='))) passed.backend = f.backend;

    const { axes, fixed } = axesFromFlags(f);
    Object.assign(passed, fixed);

    // Every run shares what the flags, --config, DFER_*, the workspace and the dataset's protocol say: what is not a
    // built-in default goes on every run's command line, so each run resolves exactly as here.
    const resolved = resolveTrainSettings({
      flags: passed,
      config: f.config ? { file: f.config, settings: readConfigFile(f.config) } : undefined,
      env: process.env,
      workspace: findWorkspace(),
    });
    const { base, implicit } = launchSettings(resolved);
    const foldSpec = f.folds ?? f.fold;
    const folds = foldSpec ? parseFolds(foldSpec) : [String(resolved.settings.fold)];
    const seeds = f.seeds ? parseIntList('seeds', f.seeds) : [resolved.settings.seed];
    const axisNames = Object.keys(axes);
    const out =
      f.out ??
      join(
        resolved.runs.path,
        basename(resolve(String(base.data))),
        axisNames.length ? `ablate-${axisNames.join('-')}` : 'ablate',
      );
    const spec = { axes, folds, seeds, base, implicit, out };
    const plan = expandGrid(spec);
    if (f.baseline && !plan.settings.some((x) => x.name === f.baseline)) {
      throw new AblateError(
        `--baseline ${f.baseline}: not a setting of this grid (${plan.settings.map((x) => x.name).join(', ')})`,
      );
    }
    const classes = checkData(spec);

    const bin = join(this.config.root, 'bin', 'run.js');
    const slurm = slurmOptionsFromFlags(f, this.argv, {
      dir: join(plan.out, 'slurm'),
      jobName: `dfer-${basename(plan.out)}`,
      bin,
    });

    const reporter = createAblateReporter(this.out.mode, `dfer ${this.id}`);
    const stop = this.stopOnSignals();
    const emit = (e: AblateEvent) => reporter.onEvent(e);
    const tableOptions = { emit, classes, ...(f.baseline ? { baseline: f.baseline } : {}) };
    let result;
    let submitted: SlurmOutcome['submitted'];
    try {
      if (slurm) {
        const outcome = await runOnSlurm(plan, { ...slurm, signal: stop.signal, emit });
        submitted = outcome.submitted;
        result = await finishGrid(
          plan,
          outcome.metrics,
          {
            interrupted: outcome.interrupted,
            failures: outcome.failures,
            inFlight: [...outcome.inFlight, ...outcome.notSubmitted],
          },
          tableOptions,
        );
      } else {
        result = await runGrid(plan, {
          jobs: f.jobs,
          runner: spawnTrainRunner(bin),
          signal: stop.signal,
          ...tableOptions,
        });
      }
    } finally {
      stop.release();
      reporter.finish();
    }
    this.out.result(ablateView({ type: 'grid-end', ...result }, plan.out, slurm ? { submitted } : undefined));
    const done = result.table.rows.reduce((a, r) => a + r.runs, 0);
    if (result.interrupted) process.exitCode = 130;
    else if (result.failures.length)
      process.exitCode =
        done > 0 || result.inFlight.length
          ? EXIT.partial
          : result.failures.every((x) => x.code === EXIT.badInput)
            ? EXIT.badInput
            : EXIT.unexpected;
    else if (result.inFlight.length && !submitted) process.exitCode = EXIT.pending;
  }
}
