import { Flags } from '@oclif/core';
import { DEFAULT_CLIP_KEY } from '../src/model/clips.js';
import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { predictFiles } from '../src/model/predict.js';
import { predictVideos, writeTimelines } from '../src/model/predict-video.js';
import { VIDEO_EXTENSIONS } from '../src/data/annotations.js';
import { EXIT } from '../src/errors.js';
import { resolveCheckpoint } from '../src/train/eval-run.js';
import { predictManyView, predictView, videoPredictCsv, videoPredictView } from '../src/ui/predict.js';
import { expandStdin } from './_input.js';
import { BaseCommand } from './_base.js';

/** A video file (by extension) or a folder of frames, rather than a tensor file. */
const isVideoInput = (p: string) =>
  VIDEO_EXTENSIONS.has(extname(p).toLowerCase()) || (existsSync(p) && statSync(p).isDirectory());

export default class Predict extends BaseCommand<typeof Predict> {
  static summary =
    'Classify a video (an expression timeline), a folder of frames, or the clips of a tensor file, with a checkpoint.';
  static description =
    `Videos (anything ffmpeg reads) and frame folders: the face is found, followed and aligned as dfer prepare --faces detect does (--faces none: centre crops), then each window of --window seconds, every --stride seconds, is sampled as the checkpoint was trained (test mode, U x V frames) and classified. Output: a timeline table (on a terminal with a coloured strip, one block per window), --csv, --json {"backend", "checkpoint", "classes", "sampling", "videos": [{"path", "fps", "faces": {"frames", "checked", "found", ...}, "windows": [{"start", "end", "label", "probabilities"}]}]}, and --plot timeline.png (probabilities over time with the face crops). A video without a face is reported; exit 7 when nothing could be classified, 4 when some videos could not.

Tensors: a safetensors file holding a float tensor (N, T, 3, H, W): N clips of T RGB frames, values in [0, 1] (pixels / 255). T, H and W must match the checkpoint's config (16 x 112 x 112 for the paper preset).

Plain output is a table: clip index, predicted label, its probability, and the 3 most probable classes.

With --json: {"backend", "checkpoint", "input", "clips": [{"index", "logits", "probabilities", "label", "features"}]}; features is the clip feature (the mean temporal token) that t-SNE plots use. With several inputs (-i a -i b, or -i - for paths on standard input): {"backend", "checkpoint", "inputs": [{"input", "clips"}, ...]}, in the order given.`;

  static examples = [
    {
      description: 'The expression timeline of a video, with a figure',
      command: '<%= config.bin %> <%= command.id %> -c runs/dfew/paper-fold1 -i interview.mp4 --plot timeline.png',
    },
    {
      description: 'Every video found, as CSV',
      command:
        "find videos -name '*.mp4' | <%= config.bin %> <%= command.id %> -c runs/dfew/paper-fold1 -i - --csv > timelines.csv",
    },
    {
      description: 'Every tensor file found, the paths on standard input',
      command:
        "find clips -name '*.safetensors' | <%= config.bin %> <%= command.id %> -c runs/dfew/paper-fold1/best -i - --json",
    },
    {
      description: 'Classify the clips of a tensor file',
      command: '<%= config.bin %> <%= command.id %> --checkpoint runs/official/best --input case1.safetensors',
    },
    {
      description: 'Another tensor name, JSON output, on the cpu backend',
      command:
        '<%= config.bin %> <%= command.id %> -c ckpt/paper -i clips.safetensors --key clips --json --backend cpu',
    },
  ];

  static flags = {
    checkpoint: Flags.string({
      char: 'c',
      required: true,
      description:
        'dfer checkpoint (<name>, <name>.safetensors or <name>.json), or a run directory (its selected checkpoint).',
    }),
    input: Flags.string({
      char: 'i',
      required: true,
      multiple: true,
      description:
        'A video, a folder of frames, or a .safetensors tensor file; several -i, or - to read the paths from standard input (one a line).',
    }),
    key: Flags.string({ default: DEFAULT_CLIP_KEY, description: 'Name of the clip tensor inside the input file.' }),
    batch: Flags.integer({ min: 1, default: 8, description: 'Clips per forward pass (memory vs speed).' }),
    window: Flags.string({
      default: '2',
      description: 'Videos: seconds per window (each window is one clip, sampled as the checkpoint was trained).',
    }),
    stride: Flags.string({ default: '1', description: 'Videos: seconds between window starts.' }),
    faces: Flags.option({
      options: ['detect', 'none'] as const,
      default: 'detect' as const,
      description:
        'Videos: detect, follow and align the face (as dfer prepare --faces detect); none: centre crops, for face crops already.',
    })(),
    'detect-every': Flags.integer({
      min: 1,
      default: 5,
      description: 'Videos: run the face detector on every k-th frame.',
    }),
    fps: Flags.string({ default: '25', description: 'Frame folders: their frame rate (videos declare theirs).' }),
    csv: Flags.boolean({
      description: 'Videos: print the timeline as CSV (video,start,end,label,p_<class>...) instead of the table.',
      exclusive: ['json'],
    }),
    plot: Flags.string({
      description:
        'Videos: write the timeline figure (class probabilities over time and the face crops) to this .png/.svg (both are written).',
    }),
  };

  async run(): Promise<void> {
    const { flags } = this;
    const inputs = expandStdin(flags.input, '--input');
    // A run directory stands for its selected checkpoint.
    flags.checkpoint = resolveCheckpoint(flags.checkpoint).checkpoint;
    // Videos and frame folders make a timeline; safetensors tensors are classified as they are.
    if (inputs.some(isVideoInput)) {
      if (!inputs.every(isVideoInput))
        this.error('give either videos and frame folders, or safetensors tensors, not both in one run', { exit: 2 });
      await this.predictVideos(inputs);
      return;
    }
    const several = flags.input.length > 1 || flags.input.includes('-');
    const onBatch = (input: string, done: number, total: number) =>
      this.out.progress({ stage: several ? `classify ${input}` : 'classify', done, total, unit: 'clips' });
    const results = await predictFiles(
      { checkpoint: flags.checkpoint, inputs, key: flags.key, batchSize: flags.batch, backend: flags.backend },
      onBatch,
    );
    this.out.result(several ? predictManyView(results) : predictView(results[0]));
  }

  private async predictVideos(inputs: string[]): Promise<void> {
    const f = this.flags;
    const seconds = (flag: string, v: string) => {
      const n = Number(v);
      if (!(n > 0)) this.error(`--${flag} ${v}: expected seconds, a positive number`, { exit: 2 });
      return n;
    };
    const r = await predictVideos(
      {
        checkpoint: f.checkpoint,
        inputs,
        window: seconds('window', f.window),
        stride: seconds('stride', f.stride),
        faces: f.faces,
        detectEvery: f['detect-every'],
        fps: seconds('fps', f.fps),
        batchSize: f.batch,
        backend: f.backend,
      },
      (p) =>
        this.out.progress({
          stage: `${p.stage} ${p.input}`,
          done: p.done,
          total: p.total,
          unit: p.stage === 'classify' ? 'windows' : 'frames',
        }),
    );
    const files = f.plot ? await writeTimelines(r, f.plot) : [];
    if (f.csv) process.stdout.write(videoPredictCsv(r));
    else {
      const view = videoPredictView(r, this.out.mode === 'tty');
      this.out.result({
        json: { ...(view.json as object), ...(files.length ? { files } : {}) },
        text: files.length ? [...view.text, '', 'files:', ...files.map((x) => `  ${x}`)] : view.text,
      });
    }
    // Nothing classified at all: exit 7; some videos without a face: 4 (the others are in the output).
    const failed = r.videos.filter((v) => v.error);
    for (const v of failed) if (this.out.mode !== 'json') process.stderr.write(`dfer predict: ${v.error}\n`);
    if (failed.length === r.videos.length) process.exitCode = EXIT.nothing;
    else if (failed.length) process.exitCode = EXIT.partial;
  }
}
