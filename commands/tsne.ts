import { Flags } from '@oclif/core';
import { tsneRun } from '../src/analysis/features.js';
import { TSNE_DEFAULTS } from '../src/analysis/tsne.js';
import { createProgress } from '../src/ui/progress.js';
import { tsneView } from '../src/ui/tsne.js';
import { BaseCommand } from './_base.js';

export default class Tsne extends BaseCommand<typeof Tsne> {
  static summary =
    "t-SNE map of the clip features of a split (the paper's Fig. 4), coloured by class and by intensity.";
  static description =
    `Extracts the clip feature of every clip of the split (the mean temporal token before the classifier; test-mode sampling, as dfer eval) and embeds the features in 2-D with t-SNE: PCA to 50 dimensions, perplexity-calibrated affinities, early exaggeration, momentum and gains (van der Maaten's algorithm); exact up to ${TSNE_DEFAULTS.exactMaxPoints} clips, Barnes-Hut above. Seeded: the same seed gives the same map.

Writes <out>.png and <out>.svg (coloured by class, with a second row coloured by intensity when the data knows it) and <out>.csv (id, class, label, intensity, x, y). --compare draws a baseline's map beside ours on the same clips, as in Fig. 4. Each map's 10-nearest-neighbour accuracy measures how well it keeps the classes apart.

A run directory is accepted wherever a checkpoint is (its selected checkpoint, data, fold and sampling are used); --out defaults to <run>/tsne-fold<k>-<split>.`;

  static examples = [
    {
      description: 'The selected checkpoint of a run, on its fold',
      command: '<%= config.bin %> <%= command.id %> --checkpoint runs/dfew/paper-fold3 --out tsne.png',
    },
    {
      description: 'Fig. 4: the baseline beside GCA + IAL on fold 3',
      command:
        '<%= config.bin %> <%= command.id %> -c runs/gca-ial --compare runs/baseline --data data/dfew --fold 3 --out fig4.png',
    },
  ];

  static flags = {
    checkpoint: Flags.string({ char: 'c', required: true, description: 'Checkpoint or run directory ("ours").' }),
    compare: Flags.string({
      description: 'Baseline checkpoint or run directory, drawn beside ours on the same clips.',
    }),
    data: Flags.string({ description: "Prepared set (default: the run's)." }),
    fold: Flags.string({ description: "Fold (default: the run's)." }),
    split: Flags.option({
      options: ['test', 'train'] as const,
      default: 'test' as const,
      description: 'Split to embed.',
    })(),
    out: Flags.string({
      char: 'o',
      description: 'Figure path: <out>.png, <out>.svg and <out>.csv are written (default <run>/tsne-fold<k>-<split>).',
    }),
    seed: Flags.integer({
      default: TSNE_DEFAULTS.seed,
      description: 'Seed of the PCA, the initial map and the subset.',
    }),
    perplexity: Flags.string({
      default: String(TSNE_DEFAULTS.perplexity),
      description: 'Effective number of neighbours (5 to 50 is usual).',
    }),
    iterations: Flags.integer({
      min: 50,
      default: TSNE_DEFAULTS.iterations,
      description: 'Gradient descent iterations (the first 250 with early exaggeration).',
    }),
    method: Flags.option({
      options: ['auto', 'exact', 'barnes-hut'] as const,
      default: 'auto' as const,
      description: `auto: exact up to ${TSNE_DEFAULTS.exactMaxPoints} clips, Barnes-Hut above.`,
    })(),
    'max-points': Flags.integer({
      min: 4,
      default: 10000,
      description: 'Embed at most this many clips (a seeded random subset of a larger split).',
    }),
    batch: Flags.integer({ min: 1, default: 8, description: 'Clips per forward pass.' }),
    workers: Flags.integer({ min: 0, description: 'Loader worker threads.' }),
  };

  async run(): Promise<void> {
    const f = this.flags;
    const perplexity = Number(f.perplexity);
    if (!(perplexity > 0)) this.error(`--perplexity ${f.perplexity}: expected a positive number`, { exit: 2 });
    const progress = createProgress(this.out.mode, `dfer ${this.id}`);
    let stage = '';
    try {
      const run = await tsneRun({
        checkpoint: f.checkpoint,
        compare: f.compare,
        data: f.data,
        fold: f.fold,
        split: f.split,
        out: f.out,
        seed: f.seed,
        perplexity,
        iterations: f.iterations,
        method: f.method,
        maxPoints: f['max-points'],
        batchSize: f.batch,
        workers: f.workers,
        backend: f.backend,
        onProgress: (s, done, total, unit, detail) => {
          if (s !== stage) {
            stage = s;
            progress.start(s, total, unit);
          }
          progress.update(done, detail);
        },
      });
      progress.finish();
      this.out.result(tsneView(run, { colour: this.out.mode === 'tty', width: process.stdout.columns }));
    } finally {
      progress.finish();
    }
  }
}
