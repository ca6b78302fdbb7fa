import { Flags } from '@oclif/core';
import { PreparedSet } from '../src/data/store.js';
import { buildTrainOptions, trainSettingsFromFlags, TRAIN_DEFAULTS, type TrainSettings } from '../src/train/options.js';
import { initView } from '../src/ui/workspace.js';
import { readWorkspace, writeWorkspace, WORKSPACE_FILE } from '../src/workspace.js';
import { BaseCommand } from './_base.js';
import Train from './train.js';

// dfer train's flags that make sense as a workspace's training defaults (not the run's place, fold or resumption).
const {
  data: _data,
  fold: _fold,
  folds: _folds,
  out: _out,
  resume: _resume,
  config: _config,
  ...TRAIN_DEFAULT_FLAGS
} = Train.flags;

export default class Init extends BaseCommand<typeof Init> {
  static summary =
    'Make this folder a dfer workspace (dfer.json): the default prepared set, the runs folder, training defaults.';
  static description =
    `Writes ${WORKSPACE_FILE} in --dir (default: here), or updates the one there. Every dfer command run in that folder or below it finds it, as npm finds package.json: dfer train then trains fold 1 of --data into <runs>/<set>/<preset>-fold1, dfer eval --fold 3 evaluates the fold-3 run, dfer ablate --gca --ial runs Table 1 on the set.

Any dfer train flag given here (--preset, --epochs, --batch, ...) becomes a training default of the workspace. Precedence when a command runs: flags, a --config file, DFER_* environment variables, the workspace, the dataset's protocol, the defaults; dfer config shows each value and where it came from. Paths are stored relative to the workspace, so it can be moved as a whole.

dfer prepare and dfer demo create or update the workspace too (their --no-workspace leaves it alone); DFER_WORKSPACE=<file or folder> names one explicitly, DFER_WORKSPACE=none ignores any.`;

  static examples = [
    { description: 'A workspace for DFEW', command: '<%= config.bin %> <%= command.id %> --data data/dfew' },
    {
      description: 'The small preset and 20 epochs by default, runs under experiments/',
      command: '<%= config.bin %> <%= command.id %> --data data/synth --preset small --epochs 20 --runs experiments',
    },
  ];

  static flags = {
    data: Flags.string({ description: 'The default prepared set (dfer prepare --out).' }),
    runs: Flags.string({ description: 'Where runs go (default runs).' }),
    dir: Flags.string({ default: '.', description: `Folder of the workspace (its ${WORKSPACE_FILE}).` }),
    ...TRAIN_DEFAULT_FLAGS,
  };

  async run(): Promise<void> {
    const f = this.flags as typeof this.flags & Record<string, unknown>;
    if (f.data) PreparedSet.open(f.data); // a prepared set, or a one-line error saying how to make one
    const given = Object.fromEntries(Object.keys(TRAIN_DEFAULT_FLAGS).map((k) => [k, f[k]]));
    if (this.argv.some((a) => a === '--backend' || a.startsWith('--backend='))) given.backend = f.backend;
    else delete given.backend;
    const train: TrainSettings = trainSettingsFromFlags(given);
    buildTrainOptions({ ...TRAIN_DEFAULTS, ...train, data: f.data ?? '.' } as Parameters<typeof buildTrainOptions>[0]); // refuses bad values now, not at the first train
    const change = writeWorkspace(null, f.dir, { data: f.data, runs: f.runs, train: train as Record<string, unknown> });
    this.out.result(initView(change, readWorkspace(change.file)));
  }
}
