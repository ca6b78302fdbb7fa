// `dfer predict` on a video (or a folder of frames): faces found, followed and aligned as `dfer prepare --faces detect`
// does, then windows of --window seconds every --stride seconds, each sampled as the checkpoint was trained (test
// mode: the middle frames of U segments x V) and classified: an expression timeline.
// Two passes over a video keep memory small: the first decodes whole pictures and detects every k-th frame (only
// detections are kept), the second decodes again and keeps each frame's aligned crop at the network's input size.
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { timelineSvg } from '../figures/plots.js';
import { writeSvgAndPng } from '../figures/svg.js';
import { useBackend, type BackendChoice } from '../backend.js';
import { listFrameFiles, readImage, type Frame } from '../data/images.js';
import { sampleFrameIndices, type SamplingSpec } from '../data/sampling.js';
import { alignFace } from '../faces/align.js';
import { FaceDetector } from '../faces/client.js';
import { FACE_SOURCE_SIDE, type FaceStats } from '../faces/crop.js';
import type { DetectedFace } from '../faces/detector.js';
import { trackFace } from '../faces/track.js';
import { decodeVideoFrames, probeVideo } from '../video/decode.js';
import { checkpointPaths, checkpointSampling, loadCheckpoint } from './checkpoint.js';
import { predictClips } from './inference.js';

/** A video (or frame folder) in which no face was found: nothing to classify (exit 7). */
export class NoFaceError extends Error {
  constructor(
    message: string,
    readonly faces: { frames: number; checked: number; found: 0 },
  ) {
    super(message);
  }
}

export interface VideoPredictOptions {
  checkpoint: string;
  inputs: string[];
  /** Seconds per window (the whole video when shorter). */
  window: number;
  /** Seconds between window starts. */
  stride: number;
  /** detect: align on the face (default); none: centre crops, for videos that are face crops already. */
  faces: 'detect' | 'none';
  detectEvery: number;
  /** Frame rate of frame folders (videos declare theirs). */
  fps: number;
  batchSize: number;
  backend: BackendChoice;
  ffmpeg?: string;
}

export interface VideoWindow {
  start: number;
  end: number;
  label: string;
  probabilities: number[];
}

export interface VideoPrediction {
  path: string;
  fps: number;
  /** Frames decoded; with faces: frames the detector ran on and found the face in. */
  faces: { frames: number; checked?: number; found?: number; coverage?: number; jitter?: FaceStats['jitter'] };
  windows: VideoWindow[];
  /** A few aligned crops (at the network's input size) along the video, for plots. */
  thumbnails: { time: number; frame: Frame }[];
  /** Why the video has no windows (no face in it). */
  error?: string;
  /** Seconds spent decoding (both passes), detecting faces, aligning crops and running the network. */
  seconds: { decode: number; detect: number; align: number; network: number };
}

export interface VideoPredictResult {
  backend: string;
  checkpoint: string;
  classes: string[];
  sampling: SamplingSpec;
  videos: VideoPrediction[];
}

export type VideoProgress = { input: string; stage: 'detect' | 'crop' | 'classify'; done: number; total: number };

const isFolder = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** Frames of a video or a frame folder, one at a time: whole pictures (to detect in) or centre squares at `size`. */
async function* framesOf(input: string, size: number, whole: boolean, o: VideoPredictOptions): AsyncGenerator<Frame> {
  if (isFolder(input)) {
    const { frames } = listFrameFiles(input);
    for (const f of frames) yield await readImage(f, size, whole ? 'contain' : 'cover');
    return;
  }
  yield* decodeVideoFrames(input, { size, fit: whole ? 'contain' : 'cover', ffmpeg: o.ffmpeg });
}

/** The aligned (or centre) crops of every frame, at the network's input size, and the faces found. */
async function cropsOf(
  input: string,
  size: number,
  expected: number,
  o: VideoPredictOptions,
  detector: FaceDetector | null,
  progress: (p: VideoProgress) => void,
  seconds: VideoPrediction['seconds'],
): Promise<{ crops: Frame[]; faces: VideoPrediction['faces'] }> {
  const started = performance.now();
  const timed = async <T>(key: 'detect' | 'align', f: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      seconds[key] += (performance.now() - t0) / 1000;
    }
  };
  // Decoding is what the passes took besides detection and alignment.
  const finish = () => (seconds.decode = (performance.now() - started) / 1000 - seconds.detect - seconds.align);
  if (!detector) {
    const crops: Frame[] = [];
    for await (const f of framesOf(input, size, false, o)) crops.push(f);
    finish();
    return { crops, faces: { frames: crops.length } };
  }
  // Pass 1: detections on every k-th frame and the last; the frames themselves are not kept (but the latest).
  const detections: (DetectedFace[] | undefined)[] = [];
  let latest: Frame | undefined;
  for await (const f of framesOf(input, FACE_SOURCE_SIDE, true, o)) {
    detections.push(
      detections.length % o.detectEvery === 0 ? await timed('detect', () => detector.detect(f)) : undefined,
    );
    latest = f;
    if (detections.length % 50 === 0) progress({ input, stage: 'detect', done: detections.length, total: expected });
  }
  if (latest && detections[detections.length - 1] === undefined)
    detections[detections.length - 1] = await timed('detect', () => detector.detect(latest!));
  const track = trackFace(detections);
  if (!track) {
    const checked = detections.filter((d) => d !== undefined).length;
    throw new NoFaceError(
      `${input}: no face found in ${checked} checked frames of ${detections.length}; nothing to classify (for videos that are face crops already, use --faces none)`,
      { frames: detections.length, checked, found: 0 },
    );
  }
  // Pass 2: each frame's aligned crop.
  const crops: Frame[] = [];
  for await (const f of framesOf(input, FACE_SOURCE_SIDE, true, o)) {
    const t = track.frames[crops.length];
    if (!t) break;
    crops.push(await timed('align', () => alignFace(f, t.leftEye, t.rightEye, size)));
    if (crops.length % 50 === 0 || crops.length === detections.length)
      progress({ input, stage: 'crop', done: crops.length, total: detections.length });
  }
  finish();
  return {
    crops,
    faces: {
      frames: detections.length,
      checked: track.checked,
      found: track.found,
      coverage: track.coverage,
      jitter: track.jitter,
    },
  };
}

/** Window starts (frames): every `stride` frames while a whole window fits, and one window for a shorter video. */
export function windowStarts(frames: number, window: number, stride: number): number[] {
  if (frames <= window) return [0];
  const starts: number[] = [];
  for (let s = 0; s + window <= frames; s += stride) starts.push(s);
  // The end of the video gets a window too when the strides leave it out.
  if (starts[starts.length - 1] + window < frames) starts.push(frames - window);
  return starts;
}

export async function predictVideos(
  o: VideoPredictOptions,
  progress: (p: VideoProgress) => void = () => {},
): Promise<VideoPredictResult> {
  const backend = await useBackend(o.backend);
  const { model, momentum, meta } = loadCheckpoint(o.checkpoint);
  tf.dispose([...momentum.values()]);
  const sampling = checkpointSampling(meta);
  const size = model.config.imageSize;
  const detector = o.faces === 'detect' ? new FaceDetector() : null;
  try {
    const videos: VideoPrediction[] = [];
    for (const input of o.inputs) {
      const probe = isFolder(input) ? null : await probeVideo(input, { ffmpeg: o.ffmpeg });
      const fps = probe?.fps ?? o.fps;
      // Frames to expect (for progress): the folder's images, or the container's duration x rate (about).
      const expected = probe ? Math.round((probe.duration ?? 0) * fps) : listFrameFiles(input).frames.length;
      const seconds = { decode: 0, detect: 0, align: 0, network: 0 };
      let cropped;
      try {
        cropped = await cropsOf(input, size, expected, o, detector, progress, seconds);
      } catch (err) {
        // No face in this one: the others are still classified; the caller decides the exit code.
        if (!(err instanceof NoFaceError)) throw err;
        videos.push({ path: input, fps, faces: err.faces, windows: [], thumbnails: [], error: err.message, seconds });
        continue;
      }
      const { crops, faces } = cropped;
      const win = Math.max(1, Math.round(o.window * fps));
      const starts = windowStarts(crops.length, win, Math.max(1, Math.round(o.stride * fps)));
      // Each window: the checkpoint's test-mode sampling of its frames, as dfer eval samples a clip.
      const T = sampling.u * sampling.v;
      const pixels = size * size;
      const data = new Float32Array(starts.length * T * 3 * pixels);
      starts.forEach((s, w) => {
        const n = Math.min(win, crops.length - s);
        sampleFrameIndices(n, 'test', sampling).forEach((idx, t) => {
          const src = crops[s + idx].data;
          const base = (w * T + t) * 3 * pixels;
          for (let p = 0; p < pixels; p++)
            for (let c = 0; c < 3; c++) data[base + c * pixels + p] = src[3 * p + c] / 255;
        });
      });
      const clips = tf.tensor5d(data, [starts.length, T, 3, size, size]);
      let predictions;
      const t0 = performance.now();
      try {
        predictions = await predictClips(model, clips, o.batchSize, (done, total) =>
          progress({ input, stage: 'classify', done, total }),
        );
      } finally {
        clips.dispose();
        seconds.network = (performance.now() - t0) / 1000;
      }
      const windows = starts.map((s, w) => ({
        start: s / fps,
        end: Math.min(s + win, crops.length) / fps,
        label: predictions[w].label,
        probabilities: predictions[w].probabilities,
      }));
      const every = Math.max(1, Math.floor(crops.length / 12));
      const thumbnails = crops
        .filter((_, i) => i % every === 0)
        .slice(0, 12)
        .map((frame, i) => ({ time: (i * every) / fps, frame }));
      videos.push({ path: input, fps, faces, windows, thumbnails, seconds });
    }
    return { backend, checkpoint: checkpointPaths(o.checkpoint).base, classes: model.config.classes, sampling, videos };
  } finally {
    model.params.dispose();
    await detector?.close();
  }
}

/**
 * The timeline figure of each video: `plot` (a .png or .svg path; both are written) for one video, <base>-<video>
 * for several. Returns the files written.
 */
export async function writeTimelines(r: VideoPredictResult, plot: string): Promise<string[]> {
  const { default: sharp } = await import('sharp');
  const base = plot.replace(/\.(png|svg)$/i, '');
  const files: string[] = [];
  const done = r.videos.filter((v) => v.windows.length);
  for (const v of done) {
    const thumbs = await Promise.all(
      v.thumbnails.map(async (t) => ({
        time: t.time,
        png: await sharp(t.frame.data, { raw: { width: t.frame.width, height: t.frame.height, channels: 3 } })
          .png()
          .toBuffer(),
      })),
    );
    const svg = timelineSvg(`${basename(v.path)}: expression probabilities`, r.classes, v.windows, thumbs);
    const out = await writeSvgAndPng(
      svg,
      done.length > 1 ? `${base}-${basename(v.path).replace(/\.[^.]+$/, '')}` : base,
    );
    files.push(out.svg, out.png);
  }
  return files;
}
