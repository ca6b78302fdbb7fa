import { Args, Flags } from '@oclif/core';
import { exportModel } from '../src/export/export.js';
import { exportTorchCheckpoint } from '../src/model/convert.js';
import { exportView, modelExportView } from '../src/ui/convert.js';
import { BaseCommand } from './_base.js';

export default class Export extends BaseCommand<typeof Export> {
  static summary = 'Export a checkpoint for other runtimes: ONNX, a TensorFlow.js web model, or a PyTorch state_dict.';
  static description =
    `--format onnx: one .onnx file (opset 17, standard ops only). Input "clips": float32 (N, T, 3, H, W), pixels / 255 in [0, 1], as dfer predict takes them; N is dynamic. Outputs "logits" (N, classes) and "features" (N, D), the clip feature t-SNE plots use. BatchNorm is folded into the convolutions; the aux heads (training only) are left out. The model's metadata_props hold the classes, the input layout, the sampling and the full config.
--format tfjs: a folder with a TensorFlow.js graph model (model.json + weight shards, for tf.loadGraphModel) and index.html, an example page that classifies a clip in the browser (WebGPU or wasm), with TensorFlow.js' browser files beside it: serve the folder (python3 -m http.server -d FOLDER) and open it. An existing folder is replaced only if it holds a previous export.
--format torch: the official state_dict as safetensors: model.load_state_dict(safetensors.torch.load_file(FILE), strict=True) accepts it; only networks the official code can build (GCA with its aux head).
Before onnx and tfjs files are written, the exported model is run on a seeded random batch (onnxruntime-node for ONNX when it is installed; TensorFlow.js' graph executor for tfjs) and compared with dfer's own forward pass; a disagreement writes nothing and exits non-zero. Files are written atomically.`;

  static examples = [
    {
      description: 'ONNX, from a run (its selected checkpoint)',
      command: '<%= config.bin %> <%= command.id %> runs/dfew/paper-fold1 --format onnx -o dfer-fold1.onnx',
    },
    {
      description: 'A web model with its example page, then serve it',
      command:
        '<%= config.bin %> <%= command.id %> runs/dfew/paper-fold1/best --format tfjs -o web/ && python3 -m http.server -d web 8000',
    },
    {
      description: 'Export for PyTorch',
      command: '<%= config.bin %> <%= command.id %> runs/dfew/best --format torch --out best_torch.safetensors',
    },
  ];

  static args = {
    checkpoint: Args.string({
      description:
        'dfer checkpoint (<name>, <name>.safetensors or <name>.json), or a run directory (its selected checkpoint)',
      required: true,
    }),
  };

  static flags = {
    format: Flags.option({
      options: ['onnx', 'tfjs', 'torch'] as const,
      default: 'torch' as const,
      description:
        'onnx = an ONNX model; tfjs = a TensorFlow.js web model and example page; torch = the official state_dict.',
    })(),
    out: Flags.string({
      char: 'o',
      required: true,
      description: 'File to write (.onnx, .safetensors), or for tfjs the folder.',
    }),
    verify: Flags.boolean({
      default: true,
      allowNo: true,
      description: 'Run the exported model against dfer on a random batch before writing (onnx, tfjs).',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = this;
    if (flags.format === 'torch') {
      this.out.result(
        exportView(
          await exportTorchCheckpoint({ checkpoint: args.checkpoint, out: flags.out, backend: flags.backend }),
        ),
      );
      return;
    }
    const result = await exportModel({
      checkpoint: args.checkpoint,
      format: flags.format,
      out: flags.out,
      backend: flags.backend,
      verify: flags.verify,
    });
    this.out.result(modelExportView(result));
  }
}
