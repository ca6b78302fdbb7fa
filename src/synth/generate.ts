// `dfer synth`: a synthetic DFER benchmark in DFEW's released layout, with every clip's expression intensity known.
//
// Deterministic: every clip is a pure function of (seed, clip index) and the options (see plan.ts), rendered in
// worker threads in any order; the bytes do not depend on --jobs or scheduling.
// Atomic and resumable: clips are written under temporary names and renamed when whole (clip-files.ts); the
// annotation files, which are what makes the tree a dataset to `dfer prepare`, are written last (metadata.csv, then
// the split lists). An interrupted run leaves a tree without split lists; running the same command again keeps the
// clips already written and finishes the rest. Another run's settings in the same --out are refused.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { writeFileAtomic } from '../atomic.js';
import { DFEW_CLASSES } from '../config.js';
import { resolveFfmpeg } from '../video/decode.js';
import {
  FRAMES_DIR,
  METADATA_FILE,
  SPLIT_DIR,
  SPLIT_FOLDERS,
  VIDEOS_DIR,
  foldNumbers,
  metadataCsv,
  splitCsv,
} from './annotations.js';
import { clipDone, writeClipFiles, type ClipJob, type ClipWritten } from './clip-files.js';
import { defaultIdentities, planDataset, type DatasetPlan } from './plan.js';
import { DEFAULT_KNOBS, type NuisanceKnobs } from './scene.js';
import { pickVideoCodec, type VideoCodec } from './video.js';
import { DferError } from '../errors.js';

export interface SynthOptions {
  out: string;
  clips: number;
  /** Side of the square frames in pixels. */
  size: number;
  seed: number;
  /** Equal clips per class instead of DFEW's imbalance. */
  balanced: boolean;
  /** Clip length in frames, uniform in [minFrames, maxFrames]. */
  minFrames: number;
  maxFrames: number;
  /** People in the set (default: one per 6 clips, at least 5). */
  identities?: number;
  /** Apex intensity ~ Beta(a, b), at least `min`. */
  intensity: { a: number; b: number; min: number };
  knobs: NuisanceKnobs;
  quality: number;
  /** Also write Clip/original/<id>.mp4 (needs ffmpeg). */
  videos: boolean;
  fps: number;
  ffmpeg?: string;
  /** Clips rendered in parallel (worker threads; default: the machine's cores). */
  jobs?: number;
}

/**
 * The defaults: 600 clips of 18-30 frames (more than U x V = 16, so the official test-mode sampling never degenerates)
 * at 112 px (the paper's input size); about half a minute on 2 cores. docs/data.md (dfer synth) has the calibration.
 */
export const SYNTH_DEFAULTS: Omit<SynthOptions, 'out'> = {
  clips: 600,
  size: 112,
  seed: 1,
  balanced: false,
  minFrames: 18,
  maxFrames: 30,
  intensity: { a: 2, b: 1, min: 0.02 }, // a quarter of the clips below 0.5, 6% below 0.25
  knobs: DEFAULT_KNOBS,
  quality: 90,
  videos: false,
  fps: 25,
};

export type SynthEvent =
  | { type: 'start'; total: number; resumed: number; out: string }
  | { type: 'clip'; id: string; done: number; total: number }
  | { type: 'done'; result: SynthResult };

export interface SynthResult {
  out: string;
  clips: number;
  /** Clips an earlier, interrupted run had already written. */
  resumed: number;
  frames: number;
  classes: string[];
  perClass: number[];
  folds: { fold: number; train: number; test: number }[];
  identities: number;
  /** Share of clips with apex intensity below 0.25, 0.5 (as drawn). */
  lowIntensity: { below025: number; below05: number };
  videos: boolean;
  seconds: number;
  settings: Record<string, unknown>;
}

export class SynthError extends DferError {}

const SETTINGS_FILE = 'synth.json';

function check(o: SynthOptions): void {
  const bad = (what: string) => {
    throw new SynthError(what);
  };
  const int = (v: number, lo: number, hi: number, name: string) => {
    if (!Number.isInteger(v) || v < lo || v > hi) bad(`${name} must be an integer in ${lo}..${hi}, got ${v}`);
  };
  if (!o.out) bad('no output directory given');
  int(o.clips, 1, 99999, '--clips'); // DFEW ids have 5 digits
  int(o.size, 16, 1024, '--size');
  int(o.seed, 0, 2 ** 32 - 1, '--seed');
  int(o.minFrames, 1, 10000, '--min-frames');
  int(o.maxFrames, 1, 10000, '--max-frames');
  if (o.maxFrames < o.minFrames) bad(`--max-frames (${o.maxFrames}) is below --min-frames (${o.minFrames})`);
  if (o.identities !== undefined) int(o.identities, 5, 1_000_000, '--identities');
  int(o.quality, 1, 100, '--quality');
  if (!(o.fps > 0)) bad(`--fps must be positive, got ${o.fps}`);
  const { a, b, min } = o.intensity;
  if (!(a > 0 && b > 0)) bad(`intensity Beta parameters must be positive, got ${a},${b}`);
  if (!(min > 0 && min <= 1)) bad(`--min-intensity must be in (0, 1], got ${min}`);
  for (const [k, v] of Object.entries(o.knobs))
    if (!(v >= 0) || !Number.isFinite(v)) bad(`${k} must be a number >= 0, got ${v}`);
  if (o.knobs.occlusion > 1 || o.knobs.talk > 1) bad('--occlusion and --talk are shares of clips: at most 1');
  if (o.jobs !== undefined) int(o.jobs, 1, 256, '--jobs');
}

/** What decides the bytes written (not --jobs, not where ffmpeg lives): a resumed run must match it. */
function settingsOf(o: SynthOptions, plan: DatasetPlan, codec: VideoCodec | null) {
  return {
    generator: 'dfer synth',
    format: 1,
    clips: o.clips,
    size: o.size,
    seed: o.seed,
    balanced: !!o.balanced,
    minFrames: o.minFrames,
    maxFrames: o.maxFrames,
    identities: plan.identities.length,
    // Spelled out key by key: the file is compared as text on resume, whatever order the caller built objects in.
    intensity: { a: o.intensity.a, b: o.intensity.b, min: o.intensity.min },
    knobs: Object.fromEntries((Object.keys(DEFAULT_KNOBS) as (keyof NuisanceKnobs)[]).map((k) => [k, o.knobs[k]])),
    quality: o.quality,
    videos: o.videos ? { fps: o.fps, codec } : false,
  };
}

/** The output directory: new, empty, or an earlier run of the same settings (resumed). */
function claimOutput(out: string, settings: object): void {
  const file = join(out, SETTINGS_FILE);
  if (existsSync(out)) {
    const entries = readdirSync(out);
    if (entries.length && !entries.includes(SETTINGS_FILE)) {
      throw new SynthError(
        `${out} exists and is not a dfer synth output (no ${SETTINGS_FILE}): choose another --out or empty it`,
      );
    }
    if (entries.includes(SETTINGS_FILE)) {
      let before: unknown;
      try {
        before = JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        before = null;
      }
      if (JSON.stringify(before) !== JSON.stringify(settings)) {
        throw new SynthError(
          `${out} holds a synthetic set made with other settings (${SETTINGS_FILE}): choose another --out or delete it`,
        );
      }
      return;
    }
  }
  mkdirSync(out, { recursive: true });
  writeFileAtomic(file, JSON.stringify(settings, null, 1) + '\n');
}

/** Removes what an interrupted run left half-written (*.tmp-<pid>). */
function removeLeftovers(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir))
    if (/\.tmp-\d+$/.test(name)) rmSync(join(dir, name), { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------------------
// Worker threads

const WORKER_FILE = fileURLToPath(new URL('./worker.js', import.meta.url));

/** Runs clip jobs on worker threads (when the compiled worker exists), else in this thread. */
class ClipPool {
  private workers: Worker[] = [];
  private idle: Worker[] = [];
  private waiting: ((w: Worker) => void)[] = [];
  private seq = 0;

  constructor(count: number) {
    if (!existsSync(WORKER_FILE)) return; // running from sources (tests): render in this thread
    for (let i = 0; i < count; i++) {
      const w = new Worker(WORKER_FILE);
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  async run(job: ClipJob): Promise<ClipWritten> {
    if (!this.workers.length) return writeClipFiles(job);
    const w = this.idle.pop() ?? (await new Promise<Worker>((r) => this.waiting.push(r)));
    const seq = this.seq++;
    try {
      return await new Promise<ClipWritten>((resolve, reject) => {
        const onMessage = (m: { seq: number; result?: ClipWritten; error?: string }) => {
          if (m.seq !== seq) return;
          cleanup();
          if (m.error !== undefined) reject(new Error(m.error));
          else resolve(m.result!);
        };
        const onError = (err: Error) => {
          cleanup();
          reject(err);
        };
        const cleanup = () => {
          w.off('message', onMessage);
          w.off('error', onError);
        };
        w.on('message', onMessage);
        w.on('error', onError);
        w.postMessage({ seq, job });
      });
    } finally {
      const next = this.waiting.shift();
      if (next) next(w);
      else this.idle.push(w);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = [];
  }
}

// ---------------------------------------------------------------------------------------------------------------

export async function generateSynth(
  opts: SynthOptions,
  emit: (e: SynthEvent) => void = () => {},
): Promise<SynthResult> {
  check(opts);
  const started = Date.now();
  const out = resolve(opts.out);
  const plan = planDataset({
    clips: opts.clips,
    seed: opts.seed,
    balanced: opts.balanced,
    minFrames: opts.minFrames,
    maxFrames: opts.maxFrames,
    identities: opts.identities ?? defaultIdentities(opts.clips),
    intensityA: opts.intensity.a,
    intensityB: opts.intensity.b,
    minIntensity: opts.intensity.min,
    knobs: opts.knobs,
  });
  const ffmpeg = opts.videos ? resolveFfmpeg(opts.ffmpeg !== undefined ? { ffmpeg: opts.ffmpeg } : {}) : null;
  const codec = ffmpeg ? pickVideoCodec(ffmpeg) : null;
  const settings = settingsOf(opts, plan, codec);
  claimOutput(out, settings);

  const framesDir = join(out, ...FRAMES_DIR);
  const videosDir = join(out, ...VIDEOS_DIR);
  mkdirSync(framesDir, { recursive: true });
  if (ffmpeg) mkdirSync(videosDir, { recursive: true });
  removeLeftovers(framesDir);
  removeLeftovers(videosDir);
  const video = ffmpeg && codec ? { dir: videosDir, ffmpeg, codec, fps: opts.fps } : undefined;
  const place = { framesDir, ...(video ? { video } : {}) };

  const todo = plan.clips.filter((c) => !clipDone(place, c.id));
  const total = plan.clips.length;
  const resumed = total - todo.length;
  emit({ type: 'start', total, resumed, out });

  const jobs = Math.max(1, opts.jobs ?? availableParallelism());
  const pool = new ClipPool(jobs);
  let done = resumed;
  let failure: Error | undefined;
  const queue = [...todo];
  const lane = async () => {
    for (let spec = queue.shift(); spec && !failure; spec = queue.shift()) {
      try {
        await pool.run({
          spec,
          identity: plan.identities[spec.identity],
          size: opts.size,
          quality: opts.quality,
          ...place,
        });
        emit({ type: 'clip', id: spec.id, done: ++done, total });
      } catch (err) {
        failure ??= new Error(`clip ${spec.id}: ${(err as Error).message}`);
      }
    }
  };
  try {
    // In this thread, two lanes overlap one clip's rendering with another's JPEG encoding.
    await Promise.all(Array.from({ length: existsSync(WORKER_FILE) ? jobs : Math.min(jobs, 2) }, lane));
  } finally {
    await pool.close();
  }
  if (failure) throw failure;

  // The annotations, last: metadata first, then the split lists that make the tree a DFEW release.
  writeFileAtomic(join(out, METADATA_FILE), metadataCsv(plan.clips, plan.identities));
  for (const split of ['train', 'test'] as const) {
    const dir = join(out, SPLIT_DIR, SPLIT_FOLDERS[split]);
    mkdirSync(dir, { recursive: true });
    for (const k of foldNumbers()) writeFileAtomic(join(dir, `set_${k}.csv`), splitCsv(plan.clips, k, split));
  }

  const n = plan.clips.length;
  const result: SynthResult = {
    out,
    clips: n,
    resumed,
    frames: plan.clips.reduce((s, c) => s + c.frames, 0),
    classes: [...DFEW_CLASSES],
    perClass: plan.counts,
    folds: foldNumbers().map((k) => {
      const test = plan.clips.filter((c) => c.fold === k).length;
      return { fold: k, train: n - test, test };
    }),
    identities: plan.identities.length,
    lowIntensity: {
      below025: plan.clips.filter((c) => c.intensity < 0.25).length / n,
      below05: plan.clips.filter((c) => c.intensity < 0.5).length / n,
    },
    videos: !!video,
    seconds: (Date.now() - started) / 1000,
    settings,
  };
  emit({ type: 'done', result });
  return result;
}
