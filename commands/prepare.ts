import { Args, Errors, Flags } from '@oclif/core';
import { parseClassList } from '../src/data/classes.js';
import { prepareDataset } from '../src/prepare/prepare.js';
import { DATASET_KINDS } from '../src/data/store.js';
import { workspaceChangeLine } from '../src/ui/workspace.js';
import { adoptPreparedSet } from '../src/workspace.js';
import { EXIT } from '../src/errors.js';
import { prepareView } from '../src/ui/prepare.js';
import { createProgress } from '../src/ui/progress.js';
import { BaseCommand } from './_base.js';

/** --min-face-coverage: a share in [0, 1]. */
function coverage(text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !(v >= 0 && v <= 1))
    throw new Errors.CLIError(`--min-face-coverage ${text}: expected a share between 0 and 1, e.g. 0.5`, { exit: 2 });
  return v;
}

export default class Prepare extends BaseCommand<typeof Prepare> {
  static summary = 'Turn a dataset as its owners ship it (DFEW, FERV39k, a list, a CSV) into a prepared set.';
  static description = `Formats (auto-detected; --format to force):
  dfew     the DFEW release: EmoLabel_DataSplit/{train,test}(single-labeled)/set_{1..5}.csv, frames in Clip/clip_224x224/<id>/ (--frames picks clip_224x224_16f or the videos in Clip/original)
  ferv39k  4_setups/All_scenes/{train,test}_All.csv, frames in 2_ClipsforFaceCrop/<Scene>/<Emotion>/<clip>/
  list     "<frame dir> <num frames> <label 0-6>" lines (the lists of DFER repos), a file or a folder of set_<k>_{train,test}.txt; paths resolved against --root
  csv      path,label[,split][,fold] with a header; path a frame folder or a video file; labels by name or index (--classes)
  mafw     the MAFW release: "Train & Test Set"/single/no_caption/set_{1..5}/{train,test}.txt, videos in data/clips/<id>.mp4, labels cross-checked against Labels/single-set.xlsx (11 classes)

The real frame count on disk wins over a listed count (every disagreement is reported). Clips shorter than --pad-to frames are padded by repeating the last frame, or dropped with --min-frames. Frames are stored as JPEG at --size px (a little larger than the model input, so random crops do not upscale). Preparation is atomic and resumable: run the same command again after an interruption and it continues where it stopped.

Exit codes: 0 every listed clip was prepared; 4 the prepared set is usable but clips were skipped (see the report); 3 the run failed (bad source, --strict and a problem); 1 unexpected error.`;

  static examples = [
    { description: 'DFEW as released', command: '<%= config.bin %> <%= command.id %> /data/DFEW --out data/dfew' },
    {
      description: 'The DFER-repo lists, frames under /data/DFEW/Clip/clip_224x224',
      command:
        '<%= config.bin %> <%= command.id %> annotation/ --format list --root /data/DFEW/Clip/clip_224x224 --out data/dfew',
    },
    {
      description: 'Your own videos',
      command: '<%= config.bin %> <%= command.id %> my_clips.csv --out data/mine --classes happy,sad,neutral --json',
    },
  ];

  static args = {
    source: Args.string({ description: 'dataset root, annotation list (or folder of lists), or CSV', required: true }),
  };

  static flags = {
    out: Flags.string({
      char: 'o',
      required: true,
      description: 'Directory of the prepared set (created; an interrupted run in it resumes).',
    }),
    format: Flags.option({
      options: ['dfew', 'ferv39k', 'list', 'csv', 'mafw'] as const,
      description: 'Source format (default: detected).',
    })(),
    frames: Flags.option({
      options: ['clip_224x224', 'clip_224x224_16f', 'original'] as const,
      description: 'DFEW: which frames to use (default clip_224x224; original = the mp4 videos).',
    })(),
    root: Flags.string({
      description: "list/csv: directory the listed paths are relative to (default: the list file's directory).",
    }),
    classes: Flags.string({
      description: 'csv: class names in index order, comma-separated (default: the 7 DFEW classes).',
    }),
    size: Flags.integer({ min: 16, default: 128, description: 'Side of the stored frames in pixels.' }),
    quality: Flags.integer({ min: 50, max: 100, default: 90, description: 'JPEG quality of the stored frames.' }),
    'pad-to': Flags.integer({
      min: 1,
      default: 16,
      description: 'Pad clips shorter than this (T) by repeating their last frame.',
    }),
    'min-frames': Flags.integer({
      min: 0,
      default: 0,
      description: 'Drop clips with fewer source frames than this (0: keep all).',
    }),
    workspace: Flags.boolean({
      default: true,
      allowNo: true,
      description:
        'Make the prepared set the default of the workspace (dfer.json here or in a parent; created here if there is none). --no-workspace leaves it alone.',
    }),
    dataset: Flags.option({
      options: DATASET_KINDS,
      description:
        'The dataset the clips come from, which decides the training protocol (default: from --format; list and csv are custom). E.g. --dataset dfew for DFEW given as DFER-repo lists.',
    })(),
    faces: Flags.option({
      options: ['none', 'detect'] as const,
      default: 'none' as const,
      description:
        "detect: find the face in each frame (@vladmandic/face-api's tiny detector and 68 landmarks), follow one person, align by the eyes and crop at --size with a margin like DFEW's crops; none: centre crops (for sources that are face crops already).",
    })(),
    'detect-every': Flags.integer({
      min: 1,
      default: 5,
      description: 'With --faces detect: run the detector on every k-th frame and follow the face between.',
    }),
    'min-face-coverage': Flags.string({
      default: '0.5',
      description:
        'With --faces detect: skip a clip whose face was found in fewer than this share of the checked frames.',
    }),
    strict: Flags.boolean({ description: 'Fail on the first problem instead of skipping the clip and reporting it.' }),
    jobs: Flags.integer({ min: 1, description: 'Clips decoded in parallel (default: all cores).' }),
    ffmpeg: Flags.string({
      description:
        'ffmpeg binary for video sources (default: DFER_FFMPEG, FFMPEG_PATH, ffmpeg-static, @ffmpeg-installer/ffmpeg, PATH).',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = this;
    const progress = createProgress(this.out.mode, this.id ? `dfer ${this.id}` : 'dfer prepare');
    const result = await prepareDataset(
      {
        source: args.source,
        out: flags.out,
        format: flags.format,
        frames: flags.frames,
        root: flags.root,
        classes: flags.classes ? parseClassList(flags.classes) : undefined,
        settings: {
          size: flags.size,
          quality: flags.quality,
          frames: flags['pad-to'],
          minFrames: flags['min-frames'],
          ...(flags.faces === 'detect'
            ? { faces: { detectEvery: flags['detect-every'], minCoverage: coverage(flags['min-face-coverage']) } }
            : {}),
        },
        strict: flags.strict,
        dataset: flags.dataset,
        jobs: flags.jobs,
        ffmpeg: flags.ffmpeg,
      },
      (e) => {
        if (e.type === 'start') progress.start('prepare', e.total, 'clips');
        else if (e.type === 'clip') progress.update(e.done);
        else if (e.type === 'issue') progress.log(`${e.issue.file}: ${e.issue.reason}`, { issue: e.issue });
        else progress.finish();
      },
    );
    progress.finish();
    const workspace = flags.workspace ? adoptPreparedSet(flags.out) : null;
    const view = prepareView(result, flags.out);
    const line = workspace ? workspaceChangeLine(workspace) : '';
    this.out.result({
      json: { ...(view.json as object), ...(workspace ? { workspace } : {}) },
      text: line ? [...view.text, '', line] : view.text,
    });
    if (result.manifest.counts.skipped > 0) process.exitCode = EXIT.partial;
  }
}
