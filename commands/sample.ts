import { Args, Flags } from '@oclif/core';
import { sampleClip } from '../src/data/inspect.js';
import { sampleView } from '../src/ui/prepare.js';
import { BaseCommand } from './_base.js';

export default class Sample extends BaseCommand<typeof Sample> {
  static summary = "Show which frames the paper's dynamic sampling picks for a clip (and what they look like).";
  static description =
    `U segments x V frames (T = U x V): train mode draws a random start in each segment, test mode takes its middle, exactly as the official code (dataset_DFEW.py). The official rule samples frame 0 only when a clip has no more than U + V - 1 frames in test mode (a 16-frame clip becomes 16 copies of its first frame); --rule uniform spreads the samples instead, and the output warns when the official rule degenerates.

--sheet writes a contact sheet PNG of the sampled frames; with --augment they are shown after the training augmentation (random area crop 0.85-1, aspect 3/5-5/3, flip, brightness 0.4-1.6, rotation up to 4 degrees, the same for every frame).`;

  static examples = [
    {
      description: 'Test-mode indices of a DFEW clip',
      command: '<%= config.bin %> <%= command.id %> data/dfew --clip 00017 --mode test',
    },
    {
      description: 'FERV39k sampling (U=8, V=2) with an augmented contact sheet',
      command:
        '<%= config.bin %> <%= command.id %> data/ferv --clip Action_Sad_0010 --u 8 --v 2 --augment --sheet sheet.png',
    },
  ];

  static args = { set: Args.string({ description: 'prepared set directory', required: true }) };

  static flags = {
    clip: Flags.string({ required: true, description: 'Clip id (as in the manifest).' }),
    mode: Flags.option({
      options: ['train', 'test'] as const,
      default: 'train' as const,
      description: 'Sampling mode.',
    })(),
    u: Flags.integer({ min: 1, default: 16, description: 'Segments U.' }),
    v: Flags.integer({ min: 1, default: 1, description: 'Consecutive frames per segment V.' }),
    rule: Flags.option({
      options: ['official', 'uniform'] as const,
      default: 'official' as const,
      description: 'Edge cases of short clips: as the official code, or spread evenly.',
    })(),
    seed: Flags.integer({ default: 1, description: 'Seed of the random draws (train mode, augmentation).' }),
    sheet: Flags.string({ description: 'Write a contact sheet PNG of the sampled frames here.' }),
    augment: Flags.boolean({ description: 'Apply the training augmentation to the sheet.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = this;
    const r = await sampleClip({
      set: args.set,
      clip: flags.clip,
      mode: flags.mode,
      u: flags.u,
      v: flags.v,
      rule: flags.rule,
      seed: flags.seed,
      sheet: flags.sheet,
      augment: flags.augment,
    });
    this.out.result(sampleView(r));
  }
}
