import { Flags } from '@oclif/core';
import { DEMO_DEFAULTS, runDemo } from '../src/demo.js';
import { createDemoReporter } from '../src/ui/demo.js';
import { BaseCommand } from './_base.js';

export default class Demo extends BaseCommand<typeof Demo> {
  static summary =
    "dfer's main job on a fresh machine: synthesise a benchmark, prepare it, train the small preset, evaluate.";
  static description =
    `Runs dfer synth (${DEMO_DEFAULTS.clips} clips with known expression intensity, DFEW's class imbalance) -> dfer prepare -> dfer train (the small preset, GCA + IAL, ${DEMO_DEFAULTS.epochs} epochs, U=${DEMO_DEFAULTS.train.u}, batch ${DEMO_DEFAULTS.train.batch}) -> the test split of fold 1, with the live dashboard. About 5 minutes on 2 CPU cores with the native engine (--backend native; on wasm each epoch takes minutes). The demo makes --dir (default: here) a workspace: dfer.json names the prepared set (data/synth) and the demo's recipe as training defaults, so that afterwards dfer train --fold 2, dfer eval --fold 1, dfer eval (every fold) and dfer ablate --gca --ial work there as typed. The synthetic videos go to data/synth-source, the run to runs/synth/small-fold1: ordinary directories every other command accepts. Running the demo again resumes an interrupted stage and skips finished ones.`;

  static examples = [
    { description: 'The demo', command: '<%= config.bin %> <%= command.id %>' },
    {
      description: 'Longer, in another folder (then cd there: it is a workspace)',
      command: '<%= config.bin %> <%= command.id %> --dir ~/dfer-demo --epochs 30',
    },
  ];

  static flags = {
    dir: Flags.string({
      default: '.',
      description: 'Workspace folder: dfer.json, data/synth-source (videos), data/synth (prepared set), runs/.',
    }),
    workspace: Flags.boolean({
      default: true,
      allowNo: true,
      description: 'Record the set and the recipe in the workspace (dfer.json); --no-workspace leaves it alone.',
    }),
    seed: Flags.integer({ default: 1, description: 'Seed of the data and the run.' }),
    clips: Flags.integer({ min: 35, default: DEMO_DEFAULTS.clips, description: 'Synthetic clips to generate.' }),
    epochs: Flags.integer({ min: 1, default: DEMO_DEFAULTS.epochs, description: 'Training epochs.' }),
  };

  async run(): Promise<void> {
    const f = this.flags;
    const prefix = `dfer ${this.id}`;
    const reporter = createDemoReporter(this.out.mode, prefix);
    const stop = this.stopOnSignals();
    try {
      const r = await runDemo(
        { dir: f.dir, workspace: f.workspace, seed: f.seed, backend: f.backend, clips: f.clips, epochs: f.epochs },
        (e) => reporter.onEvent(e),
        stop.signal,
      );
      reporter.finish();
      if (r.summary.interrupted) {
        process.exitCode = 130;
        return;
      }
      const next = [
        '',
        `the run and its plots (curves-*.png, confusion.png) are in ${r.runDir}; the prepared set in ${r.dataDir}`,
        r.workspace
          ? `next${f.dir === '.' ? '' : ` (in ${f.dir})`}: dfer eval --fold 1 (recall by intensity), dfer train --fold 2, dfer eval (every fold), dfer ablate --gca --ial (Table 1)`
          : `next: dfer eval --checkpoint ${r.runDir} (recall by intensity), dfer ablate --gca --ial --data ${r.dataDir} --preset small`,
      ];
      this.out.result({
        json: { synth: r.synthDir, data: r.dataDir, run: r.runDir, test: r.summary.test, workspace: r.workspace },
        text: next,
      });
    } finally {
      stop.release();
      reporter.finish();
    }
  }
}
