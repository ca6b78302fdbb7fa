import { Flags } from '@oclif/core';
import { writeReport } from '../src/report/report.js';
import { reportView } from '../src/ui/report.js';
import { BaseCommand } from './_base.js';

export default class Report extends BaseCommand<typeof Report> {
  static summary =
    'One self-contained HTML page comparing runs and ablation grids: settings, curves, confusion matrices, recall, ablation tables, t-SNE maps.';
  static description =
    `Give run directories, dfer ablate grids (their --out folder) or folders that hold them (a workspace's runs/): every run found is in the report, a grid's runs grouped by setting. The page shows
- each ablation grid's table, cell for cell as dfer ablate computes it (mean ± sample sd, the paired difference from the baseline with its 95% bootstrap interval and sign-flip p-value), with every run's UAR and WAR by setting;
- the training curves of every run overlaid, a panel per number metrics.jsonl records (loss parts, validation UAR and WAR, learning rate);
- the test confusion matrices side by side (a grid's setting summed over its runs), and recall by class and by apex intensity;
- the t-SNE maps dfer tsne wrote into the run directories, zoomable, a clip's id, class and prediction on hover;
- the runs' settings and provenance (seed, fold, backend, versions, data fingerprint, machine) and each config.json.

The file needs no network: the charts' library (Vega-Lite) and every number are inside it, so it can be sent by e-mail and opened from disk. It follows the reader's light or dark scheme and prints on white. Legend entries toggle runs; every chart exports as SVG or PNG from its menu.`;

  // The paths are variadic (strict = false), which oclif's generated usage line cannot show.
  static usage = '<%= command.id %> RUN_OR_GRID... -o <value> [--title <value>] [--json]';
  static strict = false;
  static args = {};

  static examples = [
    {
      description: 'The Table 1 ablation grid, to send to a colleague',
      command: '<%= config.bin %> <%= command.id %> runs/synth/ablate-gca-ial -o table1.html',
    },
    {
      description: 'Two runs side by side, with a title',
      command:
        '<%= config.bin %> <%= command.id %> runs/dfew/paper-fold1 runs/dfew/no-ial-fold1 -o compare.html --title "IAL on fold 1"',
    },
  ];

  static flags = {
    out: Flags.string({ char: 'o', required: true, description: 'The HTML file to write.' }),
    title: Flags.string({ description: 'Title of the page (default: the grid, the run, or the number of runs).' }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(Report);
    const paths = (argv as string[]).filter((a) => !a.startsWith('-'));
    this.out.result(reportView(writeReport({ paths, out: this.flags.out, title: this.flags.title })));
  }
}
