import { Args, Flags } from '@oclif/core';
import { exportTorchCheckpoint } from '../src/model/convert.js';
import { exportView } from '../src/ui/convert.js';
import { BaseCommand } from './_base.js';

export default class Export extends BaseCommand<typeof Export> {
  static summary = 'Export a dfer checkpoint as an official PyTorch state_dict (safetensors).';
  static description =
    `The file holds every tensor the official GenerateModel has, in PyTorch layouts, so that model.load_state_dict(safetensors.torch.load_file(FILE), strict=True) accepts it. Tensors the official forward pass never uses are written as zeros, num_batches_tracked as 0. The file is written atomically: it is never seen half-written.

Only networks the official code can build (GCA attention with its aux head) can be exported.`;

  static examples = [
    {
      description: 'Export for PyTorch',
      command: '<%= config.bin %> <%= command.id %> runs/dfew/best --format torch --out best_torch.safetensors',
    },
  ];

  static args = {
    checkpoint: Args.string({
      description: 'dfer checkpoint (<name>, <name>.safetensors or <name>.json)',
      required: true,
    }),
  };

  static flags = {
    format: Flags.option({
      options: ['torch'] as const,
      default: 'torch' as const,
      description: 'Output format: torch = the official state_dict as safetensors.',
    })(),
    out: Flags.string({ char: 'o', required: true, description: 'File to write (.safetensors).' }),
  };

  async run(): Promise<void> {
    const { args, flags } = this;
    this.out.result(
      exportView(await exportTorchCheckpoint({ checkpoint: args.checkpoint, out: flags.out, backend: flags.backend })),
    );
  }
}
