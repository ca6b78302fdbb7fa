import { Errors, Flags } from '@oclif/core';
import { DEFAULT_KNOBS } from '../src/synth/scene.js';
import { generateSynth, SYNTH_DEFAULTS as D } from '../src/synth/generate.js';
import { createProgress } from '../src/ui/progress.js';
import { synthView } from '../src/ui/synth.js';
import { BaseCommand } from './_base.js';

/** A number flag (oclif has integers only), checked against [min, max]. */
const num = (description: string, dflt: number, min = 0, max = Infinity) =>
  Flags.custom<number>({
    description,
    default: dflt,
    parse: async (s) => {
      const v = Number(s);
      if (s.trim() === '' || !Number.isFinite(v) || v < min || v > max)
        throw new Errors.CLIError(`expected a number in [${min}, ${max === Infinity ? 'inf' : max}], got "${s}"`);
      return v;
    },
  })();

export default class Synth extends BaseCommand<typeof Synth> {
  static summary =
    "Generate a synthetic DFER benchmark (rendered face videos, known expression intensity) in DFEW's layout.";
  static description =
    `Faces of many people (shape, proportions, skin tone, hair, glasses) make one of the 7 DFEW expressions through FACS-like action units, with an apex intensity in (0, 1] and a temporal profile (neutral onset, apex, partial offset). At intensity 0 every class is the neutral face, so low-intensity clips are genuinely hard; fear/surprise and anger/disgust share actions. Nuisances: head pose and drift, lighting, background clutter, blinks, gaze, talking, occluders, sensor noise, JPEG.

Output: EmoLabel_DataSplit/{train,test}(single-labeled)/set_{1..5}.csv (5 folds, stratified by class, each person in the test split of one fold only), Clip/clip_224x224/<id>/<n>.jpg (at --size px), Clip/original/<id>.mp4 with --videos, and metadata.csv (label, intensity, person, every nuisance parameter). dfer prepare reads it as DFEW.

Deterministic: the same options give byte-identical files whatever --jobs. Atomic and resumable: an interrupted run leaves no split lists; run the same command again to finish it. The knobs (--noise, --occlusion, --pose-jitter, --clutter, --lighting, --au-jitter, --talk, --intensity) make the benchmark harder or easier.`;

  static examples = [
    {
      description: 'The default benchmark (600 clips, DFEW class imbalance)',
      command: '<%= config.bin %> <%= command.id %> --out data/synth-src',
    },
    {
      description: 'Balanced classes, more low-intensity clips, heavier nuisances',
      command:
        '<%= config.bin %> <%= command.id %> --out data/synth-hard --balanced --intensity 1,2 --noise 8 --occlusion 0.4 --pose-jitter 1.5',
    },
    { description: 'Then prepare it like DFEW', command: '<%= config.bin %> prepare data/synth-src --out data/synth' },
  ];

  static flags = {
    out: Flags.string({
      char: 'o',
      required: true,
      description:
        'Directory to write (created; must be empty, or an interrupted run of the same options, which resumes).',
    }),
    clips: Flags.integer({ min: 1, max: 99999, default: D.clips, description: 'Number of clips (ids 00001..).' }),
    size: Flags.integer({ min: 16, max: 1024, default: D.size, description: 'Side of the square frames in pixels.' }),
    seed: Flags.integer({
      min: 0,
      default: D.seed,
      description: 'Seed: the same seed and options give byte-identical output.',
    }),
    balanced: Flags.boolean({
      description: "Equal clips per class (default: DFEW's imbalance, disgust ~1%, fear ~8%).",
    }),
    'min-frames': Flags.integer({
      min: 1,
      default: D.minFrames,
      description: 'Shortest clip in frames (keep it above U x V = 16 for the official test-mode sampling).',
    }),
    'max-frames': Flags.integer({
      min: 1,
      default: D.maxFrames,
      description: 'Longest clip in frames (lengths are uniform in between).',
    }),
    identities: Flags.integer({ min: 5, description: 'Number of people (default: one per 6 clips).' }),
    intensity: Flags.custom<{ a: number; b: number }>({
      description: 'Apex intensity distribution Beta(A,B) as "A,B" ("1,2" makes low intensities commoner).',
      default: { a: D.intensity.a, b: D.intensity.b },
      defaultHelp: async () => `${D.intensity.a},${D.intensity.b}`,
      parse: async (s) => {
        const m = /^\s*([\d.]+)\s*,\s*([\d.]+)\s*$/.exec(s);
        const [a, b] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
        if (!(a > 0 && b > 0))
          throw new Errors.CLIError(`expected two positive numbers "A,B" (Beta parameters), got "${s}"`);
        return { a, b };
      },
    })(),
    'min-intensity': num('Smallest apex intensity (draws below it are raised to it).', D.intensity.min, 0.0001, 1),
    noise: num('Sensor noise: standard deviation in grey levels.', DEFAULT_KNOBS.noise),
    occlusion: num(
      'Share of clips with a hand, an object or hair over part of the face.',
      DEFAULT_KNOBS.occlusion,
      0,
      1,
    ),
    'pose-jitter': num(
      'Scale of head position, size, rotation, yaw and their drift (0: frontal, still).',
      DEFAULT_KNOBS.poseJitter,
    ),
    clutter: num('Scale of the number and contrast of background shapes.', DEFAULT_KNOBS.clutter),
    lighting: num('Scale of brightness, contrast, colour and gradient variation.', DEFAULT_KNOBS.lighting),
    'au-jitter': num('Per-clip spread of each action unit around its class prototype.', DEFAULT_KNOBS.auJitter),
    talk: num(
      'Share of clips in which the person talks (the mouth moves whatever the class).',
      DEFAULT_KNOBS.talk,
      0,
      1,
    ),
    quality: Flags.integer({ min: 1, max: 100, default: D.quality, description: 'JPEG quality of the frames.' }),
    videos: Flags.boolean({ description: 'Also write Clip/original/<id>.mp4 (H.264 through ffmpeg).' }),
    fps: num('Frame rate of the videos.', D.fps, 1, 240),
    ffmpeg: Flags.string({
      description:
        'ffmpeg binary for --videos (default: DFER_FFMPEG, FFMPEG_PATH, ffmpeg-static, @ffmpeg-installer/ffmpeg, PATH).',
    }),
    jobs: Flags.integer({ min: 1, max: 256, description: 'Clips rendered in parallel (default: all cores).' }),
  };

  async run(): Promise<void> {
    const f = this.flags;
    const progress = createProgress(this.out.mode, 'dfer synth');
    const result = await generateSynth(
      {
        out: f.out,
        clips: f.clips,
        size: f.size,
        seed: f.seed,
        balanced: f.balanced ?? false,
        minFrames: f['min-frames'],
        maxFrames: f['max-frames'],
        identities: f.identities,
        intensity: { ...f.intensity, min: f['min-intensity'] },
        knobs: {
          noise: f.noise,
          occlusion: f.occlusion,
          poseJitter: f['pose-jitter'],
          clutter: f.clutter,
          lighting: f.lighting,
          auJitter: f['au-jitter'],
          talk: f.talk,
        },
        quality: f.quality,
        videos: f.videos ?? false,
        fps: f.fps,
        ffmpeg: f.ffmpeg,
        jobs: f.jobs,
      },
      (e) => {
        if (e.type === 'start') {
          progress.start('synth', e.total, 'clips');
          if (e.resumed) progress.update(e.resumed);
        } else if (e.type === 'clip') progress.update(e.done);
      },
    ).finally(() => progress.finish());
    this.out.result(synthView(result));
  }
}
