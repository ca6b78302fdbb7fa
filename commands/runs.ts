import { Flags } from '@oclif/core';
import { runsRoot } from '../src/train/options.js';
import { filterRows, indexRuns, SORT_FIELDS, sortRows } from '../src/train/runs-index.js';
import { runsCsv, runsView } from '../src/ui/runs.js';
import { browseRuns } from '../src/ui/runs-browser.js';
import { findWorkspace } from '../src/workspace.js';
import { BaseCommand } from './_base.js';

export default class Runs extends BaseCommand<typeof Runs> {
  static summary =
    'List every run under some folders: state, data and fold, the settings that differ, epochs, validation and test UAR.';
  static description =
    `Runs are found at any depth below the folders given (default: the workspace's runs folder, or runs/): plain runs, dfer train --folds layouts and dfer ablate grids. A run is running while a live dfer process holds its lock, finished with results.json, interrupted with a checkpoint and no results (the same command resumes it), failed when it stopped before its first checkpoint.

The settings columns are those whose values differ between the listed runs. --where filters on a row field (state, set, fold, seed, preset) or a setting (model.attention, loss.ial, optimizer.lr, or its last part: attention, ial, lr); --sort orders by test_uar, test_war, val_uar (best first), age (newest first), path, fold, state or epochs.

On a terminal the list opens as a browser: ↑/↓ move, Enter opens a run (settings, curves, confusion matrix, recall by class and intensity), space marks and d compares two marked runs side by side, e evaluates, r resumes an interrupted run, q quits. --list, --json, --csv or a pipe print the table instead.`;

  static strict = false;
  static args = {};

  static examples = [
    {
      description: "The workspace's runs, best test UAR first",
      command: '<%= config.bin %> <%= command.id %> --sort test_uar',
    },
    {
      description: 'The small-preset runs with IAL of a grid, as CSV',
      command:
        '<%= config.bin %> <%= command.id %> runs/synth/ablate-gca-ial --where preset=small --where ial=true --csv',
    },
  ];

  static flags = {
    sort: Flags.option({ options: SORT_FIELDS, default: 'path' as const, description: 'Order of the rows.' })(),
    where: Flags.string({
      multiple: true,
      description: 'Keep the runs whose field or setting has this value: key=value (repeatable: all must hold).',
    }),
    csv: Flags.boolean({ description: 'Print CSV on stdout instead of the table.', exclusive: ['json'] }),
    list: Flags.boolean({ description: 'On a terminal too, print the table instead of opening the browser.' }),
  };

  async run(): Promise<void> {
    const f = this.flags;
    const { argv } = await this.parse(Runs);
    const given = (argv as string[]).filter((a) => !a.startsWith('-'));
    const roots = given.length ? given : [runsRoot(process.env, findWorkspace()).path];
    const rows = sortRows(filterRows(indexRuns(roots), f.where ?? []), f.sort);
    if (f.csv) process.stdout.write(runsCsv(rows));
    else if (this.out.mode === 'tty' && process.stdin.isTTY && rows.length && !f.list) {
      // On a terminal: the browser; what the user chose in it (evaluate, resume) runs as that command would.
      const action = await browseRuns(rows);
      if (action.type === 'evaluate') await this.config.runCommand('eval', ['--checkpoint', action.run.path]);
      else if (action.type === 'resume') await this.config.runCommand('train', ['--resume', '--out', action.run.path]);
    } else this.out.result(runsView(rows, roots));
  }
}
