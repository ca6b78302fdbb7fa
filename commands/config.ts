import { Flags } from '@oclif/core';
import { NoDataError, resolveTrainSettings, trainOptionsFor } from '../src/train/options.js';
import { configView } from '../src/ui/workspace.js';
import { findWorkspace } from '../src/workspace.js';
import { BaseCommand } from './_base.js';

export default class Config extends BaseCommand<typeof Config> {
  static summary = 'Show every training setting as dfer train would resolve it here, and where each value comes from.';
  static description =
    `Sources, highest first: flags, a --config file, DFER_* environment variables (DFER_DATA, DFER_EPOCHS, DFER_WEIGHT_DECAY, ...; DFER_RUNS for the runs folder), the workspace (dfer.json in this folder or a parent), the prepared set's dataset protocol (DFEW: U=16 x V=1, 80 epochs; FERV39k: U=8 x V=2, 100 epochs), the built-in defaults (the official code's).

--json prints {workspace, data, dataset, protocol, folds, runs, runDir, settings: {name: {value, from}}}.`;

  static examples = [
    { description: 'What dfer train would do here', command: '<%= config.bin %> <%= command.id %>' },
    {
      description: 'The same for another set, as JSON',
      command: '<%= config.bin %> <%= command.id %> --data data/ferv39k --json',
    },
  ];

  static flags = {
    data: Flags.string({ description: "Prepared set (default: the workspace's)." }),
    fold: Flags.string({ description: 'Fold whose run directory to show (default: the resolved fold).' }),
  };

  async run(): Promise<void> {
    const f = this.flags;
    const workspace = findWorkspace();
    let resolved = null;
    try {
      resolved = resolveTrainSettings({
        flags: { ...(f.data ? { data: f.data } : {}), ...(f.fold ? { fold: f.fold } : {}) },
        env: process.env,
        workspace,
      });
    } catch (err) {
      if (!(err instanceof NoDataError)) throw err;
    }
    const fold = resolved ? String(resolved.settings.fold) : undefined;
    const runDir = resolved && fold && resolved.folds.includes(fold) ? trainOptionsFor(resolved).out : undefined;
    this.out.result(configView({ workspace, resolved, runDir, fold }));
  }
}
