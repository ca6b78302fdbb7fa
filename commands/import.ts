import { Args, Flags } from '@oclif/core';
import { PRESETS } from '../src/config.js';
import { importTorchCheckpoint } from '../src/model/convert.js';
import { importView } from '../src/ui/convert.js';
import { BaseCommand } from './_base.js';

export default class Import extends BaseCommand<typeof Import> {
  static summary = 'Import an official PyTorch state_dict (safetensors) as a dfer checkpoint.';
  static description =
    `The input is the state_dict of the authors' GenerateModel as written by safetensors.torch.save_file(model.state_dict(), FILE). Every tensor is checked against the --preset network (names and shapes) and converted to dfer's layouts; the checkpoint <out>.safetensors + <out>.json records the source file. Official tensors the forward pass never uses are accepted and listed as ignored.

On any problem (missing tensor, wrong shape, unknown tensor, not a safetensors file, truncated file) nothing is written, one line names the file and the tensor, and the exit code is 3.`;

  static examples = [
    {
      description: 'Import the paper model',
      command: '<%= config.bin %> <%= command.id %> weights.safetensors --preset paper --out runs/official/best',
    },
    {
      description: 'Report as JSON',
      command: '<%= config.bin %> <%= command.id %> weights.safetensors --out ckpt/paper --json',
    },
  ];

  static args = {
    state_dict: Args.string({ description: 'PyTorch state_dict as a .safetensors file', required: true }),
  };

  static flags = {
    preset: Flags.option({
      options: Object.keys(PRESETS),
      default: 'paper',
      description: 'Network the state_dict was trained with.',
    })(),
    out: Flags.string({
      char: 'o',
      required: true,
      description: 'Checkpoint to write: <out>.safetensors and <out>.json (an extension is ignored).',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = this;
    this.out.result(
      importView(
        await importTorchCheckpoint({
          input: args.state_dict,
          preset: flags.preset,
          out: flags.out,
          backend: flags.backend,
        }),
      ),
    );
  }
}
