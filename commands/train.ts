import { basename, dirname, join, resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { ATTENTION_TYPES } from '../src/config.js';
import { SCHEDULES } from '../src/train/optim.js';
import { aggregateRuns, parseFolds } from '../src/train/eval-run.js';
import { foldsGrid } from '../src/analysis/ablate.js';
import { runOnSlurm } from '../src/cluster/slurm.js';
import {
  launchSettings,
  readConfigFile,
  resolveTrainSettings,
  resumeOptions,
  trainOptionsFor,
  trainSettingsFromFlags,
  TRAIN_DEFAULTS as D,
  type ResolvedTrainSettings,
} from '../src/train/options.js';
import { train, type TrainOptions } from '../src/train/trainer.js';
import { crossValView, slurmFoldsView } from '../src/ui/eval.js';
import { findWorkspace } from '../src/workspace.js';
import { createTrainReporter } from '../src/ui/train.js';
import { createAblateReporter } from '../src/ui/ablate.js';
import { EXIT } from '../src/errors.js';
import { BaseCommand } from './_base.js';
import { EXECUTOR_FLAGS, refuseSlurmOnlyFlags, slurmOptionsFromFlags } from './_executor.js';

export default class Train extends BaseCommand<typeof Train> {
  static summary = 'Train the GCA + IAL network on a fold of a prepared set, with a live dashboard.';
  static description =
    `Defaults follow the authors' code (MODEL.md): SGD lr 0.001, momentum 0.9, weight decay 0.1, StepLR every 7 epochs x0.5, lambda 0.1, r 16, U=16 x V=1 sampling, batch 40, 80 epochs; and the dataset's protocol from the paper, which the prepared set knows: FERV39k U=8 x V=2 and 100 epochs. The line "protocol ..." at the start says which applied and what overrode it.

Every option is taken, highest first, from: the flags, a --config file, DFER_* environment variables (DFER_EPOCHS, DFER_BATCH, DFER_DATA, ...), the workspace (dfer.json: dfer init), the dataset's protocol, the defaults. dfer config shows each value and where it came from. In a workspace, plain "dfer train" trains fold 1 of its prepared set into <runs>/<set>/<preset>-fold1.

Protocol: a stratified ${100 * D.valFraction}% validation slice of the training fold (seeded) selects the checkpoint; the fold's test split is evaluated once at the end with the selected weights. --select-on test reproduces the DFER repos' best-on-test habit, and every output of such a run says so.

The run directory (--out) gets config.json (resolved options, backend, versions, data fingerprint), metrics.jsonl, last/best checkpoints (atomic, every epoch and every --save-every steps), summary.json, results.json, test-predictions.csv, curves-*.svg/png and confusion.svg/png. Ctrl-C (or SIGTERM, as Slurm sends before it kills a task) stops after the current step and saves; running the same command again (or --resume --out DIR) continues exactly where it stopped.

Output: a dashboard on a terminal; plain progress lines when piped or with CI set; --json prints one JSON object per event on stdout.
Exit codes: 0 done; 130 interrupted (saved, resumable); 2 no prepared set named anywhere (no --data, DFER_DATA or workspace), or a flag the parser rejects; 3 bad input (a value out of range, a fold the set lacks, a damaged file) or a non-finite loss; 1 unexpected error.`;

  static examples = [
    {
      description: "Fold 1 of the workspace's prepared set (dfer init --data data/dfew, once)",
      command: '<%= config.bin %> <%= command.id %>',
    },
    {
      description: 'All five folds, one after the other, then the cross-validation row',
      command: '<%= config.bin %> <%= command.id %> --folds 1-5',
    },
    {
      description: 'Fold 3 of DFEW, official settings',
      command: '<%= config.bin %> <%= command.id %> --data data/dfew --fold 3',
    },
    {
      description: 'The small preset on a CPU, baseline without GCA and IAL',
      command:
        '<%= config.bin %> <%= command.id %> --data data/synth --preset small --batch 8 --epochs 10 --no-gca --no-ial',
    },
    {
      description: 'Continue a stopped run',
      command: '<%= config.bin %> <%= command.id %> --resume --out runs/dfew/paper-fold3',
    },
  ];

  static flags = {
    data: Flags.string({ description: "Prepared set (default: the workspace's, see dfer config)." }),
    fold: Flags.string({ description: `Fold to train on (default ${D.fold}).`, exclusive: ['folds'] }),
    folds: Flags.string({
      description:
        'Several folds, one after the other, e.g. 1-5 (then the cross-validation summary); with --out, into <out>/fold<k>.',
    }),
    preset: Flags.string({ description: `Network preset: paper | small (default ${D.preset}).` }),
    config: Flags.string({ description: 'JSON file of options (names as these flags, camelCase); flags override it.' }),
    resume: Flags.boolean({
      description:
        'Continue the run in --out with its own configuration (only --backend, --workers and --epochs may change).',
    }),
    out: Flags.string({
      char: 'o',
      description:
        'Run directory (default <runs>/<set>/<preset>-fold<k>, with -<attention>, -noaux, -noial, -seed<s> for departures from the preset).',
    }),
    epochs: Flags.integer({
      min: 1,
      description: `Epochs (default: the dataset's protocol, ${D.epochs} for DFEW, 100 for FERV39k).`,
    }),
    batch: Flags.integer({
      min: 1,
      description: `Clips per training batch (default ${D.batch}; the official code drops the last incomplete batch).`,
    }),
    lr: Flags.string({ description: `Base learning rate (default ${D.lr}).` }),
    momentum: Flags.string({ description: `SGD momentum (default ${D.momentum}).` }),
    'weight-decay': Flags.string({ description: `L2 weight decay added to the gradient (default ${D.weightDecay}).` }),
    schedule: Flags.option({
      options: SCHEDULES,
      description: 'step: x gamma every --step-size epochs (the code); exp: x gamma every epoch (the paper); cosine.',
    })(),
    'step-size': Flags.integer({ min: 1, description: `Epochs between step decays (default ${D.stepSize}).` }),
    gamma: Flags.string({ description: 'Decay factor (default 0.5 for step, 0.9 for exp).' }),
    lambda: Flags.string({ description: `Weight of the intensity-aware loss (default ${D.lambda}).` }),
    r: Flags.integer({ min: 1, description: 'Reduction ratio of the channel attention MLP (default 16).' }),
    attention: Flags.option({
      options: ATTENTION_TYPES,
      description: 'Channel attention in layer2/layer3 (default gca).',
    })(),
    gca: Flags.boolean({
      allowNo: true,
      description: '--no-gca: the baseline without channel attention (= --attention none).',
    }),
    aux: Flags.boolean({
      allowNo: true,
      description: 'Auxiliary classifier on the attention descriptor (default on).',
    }),
    ial: Flags.boolean({ allowNo: true, description: 'Intensity-aware loss (default on).' }),
    augment: Flags.boolean({ allowNo: true, description: 'Training augmentation (default on).' }),
    u: Flags.integer({
      min: 1,
      description: `Segments U (default: the dataset's protocol, ${D.u} for DFEW, 8 for FERV39k); T = U x V frames per clip.`,
    }),
    v: Flags.integer({
      min: 1,
      description: `Consecutive frames per segment V (default: the dataset's protocol, ${D.v} for DFEW, 2 for FERV39k).`,
    }),
    rule: Flags.option({
      options: ['official', 'uniform'] as const,
      description: 'Sampling of short clips: as the official code, or spread evenly (see dfer sample).',
    })(),
    seed: Flags.integer({ description: `Seed of weights, data order, sampling and augmentation (default ${D.seed}).` }),
    'val-fraction': Flags.string({
      description: `Share of the training fold held out for selection (default ${D.valFraction}).`,
    }),
    'select-on': Flags.option({
      options: ['val', 'test'] as const,
      description: 'Split that selects the checkpoint (default val; test is optimistic).',
    })(),
    'select-metric': Flags.option({
      options: ['war', 'uar'] as const,
      description: 'Selection metric (default war, as the official code).',
    })(),
    'save-every': Flags.integer({
      min: 0,
      description: 'Also save the last checkpoint every N steps (default 0: at epoch ends).',
    }),
    'eval-batch': Flags.integer({ min: 1, description: 'Clips per evaluation batch (default: --batch).' }),
    workers: Flags.integer({
      min: 0,
      description: 'Loader worker threads (default: the cores; 0 renders in the main thread).',
    }),
    ...EXECUTOR_FLAGS,
  };

  async run(): Promise<void> {
    const f = this.flags;
    // --backend has a default (auto); only an explicit one overrides a --config file, the workspace or a resumed run's.
    const backendGiven =
      this.argv.some((a) => a === '--backend' || a.startsWith('--backend=')) || Boolean(process.env.DFER_BACKEND);
    let plans: TrainOptions[];
    let resolved: ResolvedTrainSettings | undefined;
    if (f.resume) {
      plans = [
        resumeOptions(f.out ?? this.error('--resume needs --out <run directory>', { exit: 2 }), {
          backend: backendGiven ? f.backend : undefined,
          workers: f.workers,
          epochs: f.epochs,
        }),
      ];
    } else {
      const { folds: _folds, ...flags } = f;
      resolved = resolveTrainSettings({
        flags: trainSettingsFromFlags({ ...flags, backend: backendGiven ? f.backend : undefined }),
        config: f.config ? { file: f.config, settings: readConfigFile(f.config) } : undefined,
        env: process.env,
        workspace: findWorkspace(),
      });
      // Every fold is checked before the first one trains.
      // With --folds, --out is the folder of the runs: <out>/fold<k> (the layout dfer eval --runs-dir reads).
      const r = resolved;
      plans = (f.folds ? parseFolds(f.folds) : [undefined]).map((k) => {
        const o = trainOptionsFor(r, k);
        return f.folds && f.out ? { ...o, out: join(f.out, `fold${k}`) } : o;
      });
    }
    // On a cluster: the folds as a Slurm job array, each task this same command for one fold.
    if (f.executor === 'slurm' && resolved) return this.onSlurm(resolved, plans);
    refuseSlurmOnlyFlags(f, this.argv);
    // Ctrl-C or SIGTERM: finish the current step, save, exit 130; a second Ctrl-C quits at once.
    const stop = this.stopOnSignals();
    try {
      for (const options of plans) {
        const reporter = createTrainReporter(this.out.mode, `dfer ${this.id}`);
        try {
          const summary = await train(options, (e) => reporter.onEvent(e), stop.signal);
          if (summary.interrupted) {
            process.exitCode = 130;
            return;
          }
        } finally {
          reporter.finish();
        }
      }
    } finally {
      stop.release();
    }
    // Several folds: the cross-validation summary (the paper's Table 4 row) after the last.
    if (plans.length > 1) this.out.result(crossValView(aggregateRuns(plans.map((p) => p.out))));
  }

  /** The folds' runs on Slurm (src/cluster/slurm.ts), shown in dfer ablate's live grid; then the same summary. */
  private async onSlurm(resolved: ResolvedTrainSettings, plans: TrainOptions[]): Promise<void> {
    const f = this.flags;
    if (f.resume)
      this.error(
        '--resume with --executor slurm: run the same command again instead (finished folds are skipped, the others resume)',
        { exit: 2 },
      );
    const set = basename(resolve(String(resolved.settings.data)));
    const dir = f.out && f.folds ? join(f.out, 'slurm') : join(resolved.runs.path, set, 'slurm');
    const slurm = slurmOptionsFromFlags(f, this.argv, {
      dir,
      jobName: `dfer-train-${set}`,
      bin: join(this.config.root, 'bin', 'run.js'),
    })!;
    const { base, implicit } = launchSettings(resolved);
    const plan = foldsGrid({
      out: dirname(dir),
      base,
      implicit,
      seed: resolved.settings.seed,
      runs: plans.map((p) => ({ fold: String(p.fold), dir: p.out })),
    });
    const reporter = createAblateReporter(this.out.mode, `dfer ${this.id}`);
    const stop = this.stopOnSignals();
    let outcome;
    try {
      outcome = await runOnSlurm(plan, { ...slurm, signal: stop.signal, emit: (e) => reporter.onEvent(e) });
    } finally {
      stop.release();
      reporter.finish();
    }
    // The cross-validation row of the folds that finished (every fold, once the array is done), and where the rest are.
    const finished = plans.filter((p) => outcome.metrics.has(p.out)).map((p) => p.out);
    const unfinished = [...outcome.inFlight, ...outcome.notSubmitted];
    this.out.result(
      slurmFoldsView({
        crossVal: finished.length && (finished.length > 1 || plans.length === 1) ? aggregateRuns(finished) : undefined,
        submitted: outcome.submitted,
        failed: outcome.failures.map((x) => x.id),
        unfinished,
        logs: join(dir, 'logs'),
      }),
    );
    if (outcome.interrupted) process.exitCode = 130;
    else if (outcome.failures.length) process.exitCode = finished.length ? EXIT.partial : EXIT.unexpected;
    else if (unfinished.length && !outcome.submitted) process.exitCode = EXIT.pending;
  }
}
