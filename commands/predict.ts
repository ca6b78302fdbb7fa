import { Flags } from '@oclif/core';
import { DEFAULT_CLIP_KEY } from '../src/model/clips.js';
import { predictFiles } from '../src/model/predict.js';
import { predictManyView, predictView } from '../src/ui/predict.js';
import { expandStdin } from './_input.js';
import { BaseCommand } from './_base.js';

export default class Predict extends BaseCommand<typeof Predict> {
  static summary = 'Classify the clips of a file with a checkpoint.';
  static description = `The input is a safetensors file holding a float tensor (N, T, 3, H, W): N clips of T RGB frames, values in [0, 1] (pixels / 255). T, H and W must match the checkpoint's config (16 x 112 x 112 for the paper preset).

Plain output is a table: clip index, predicted label, its probability, and the 3 most probable classes.

With --json: {"backend", "checkpoint", "input", "clips": [{"index", "logits", "probabilities", "label", "features"}]}; features is the clip feature (the mean temporal token) that t-SNE plots use. With several inputs (-i a -i b, or -i - for paths on standard input): {"backend", "checkpoint", "inputs": [{"input", "clips"}, ...]}, in the order given.`;

  static examples = [
    { description: 'Every tensor file found, the paths on standard input', command: "find clips -name '*.safetensors' | <%= config.bin %> <%= command.id %> -c runs/dfew/paper-fold1/best -i - --json" },
    { description: 'Classify the clips of a tensor file', command: '<%= config.bin %> <%= command.id %> --checkpoint runs/official/best --input case1.safetensors' },
    {
      description: 'Another tensor name, JSON output, on the cpu backend',
      command: '<%= config.bin %> <%= command.id %> -c ckpt/paper -i clips.safetensors --key clips --json --backend cpu',
    },
  ];

  static flags = {
    checkpoint: Flags.string({ char: 'c', required: true, description: 'dfer checkpoint (<name>, <name>.safetensors or <name>.json).' }),
    input: Flags.string({ char: 'i', required: true, multiple: true, description: 'Clips to classify: a .safetensors file; several -i, or - to read the paths from standard input (one a line).' }),
    key: Flags.string({ default: DEFAULT_CLIP_KEY, description: 'Name of the clip tensor inside the input file.' }),
    batch: Flags.integer({ min: 1, default: 8, description: 'Clips per forward pass (memory vs speed).' }),
  };

  async run(): Promise<void> {
    const { flags } = this;
    const inputs = expandStdin(flags.input, '--input');
    const several = flags.input.length > 1 || flags.input.includes('-');
    const onBatch = (input: string, done: number, total: number) => this.out.progress({ stage: several ? `classify ${input}` : 'classify', done, total, unit: 'clips' });
    const results = await predictFiles({ checkpoint: flags.checkpoint, inputs, key: flags.key, batchSize: flags.batch, backend: flags.backend }, onBatch);
    this.out.result(several ? predictManyView(results) : predictView(results[0]));
  }
}
