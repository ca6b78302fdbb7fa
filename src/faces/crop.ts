// Faces in a clip, end to end: detect every k-th frame (in the detector's thread), follow one person, align each frame
// by the eyes, crop at the prepared size. What `dfer prepare --faces detect` and `dfer predict` on a video share.
import type { Frame } from '../data/images.js';
import { alignFace } from './align.js';
import type { FaceDetector } from './client.js';
import type { DetectedFace } from './detector.js';
import { trackFace, type FaceTrack } from './track.js';

/** Frames are decoded with their longer side at most this for detection and alignment (crops are cut from them). */
export const FACE_SOURCE_SIDE = 640;

export interface FaceCropOptions {
  /** Side of the aligned crops. */
  size: number;
  /** Run the detector on every k-th frame (and the last); the face is interpolated between. */
  detectEvery: number;
}

/** Summary of the faces of one clip or video (prepare-report.json, predict's JSON). */
export interface FaceStats {
  frames: number;
  /** Frames the detector ran on. */
  checked: number;
  /** Of those, frames with the followed face. */
  found: number;
  coverage: number;
  /** Frames whose face was interpolated or filled from the nearest detection. */
  filled: number;
  /** Mean frame-to-frame movement of the eyes' midpoint, in eye distances: before and after smoothing. */
  jitter: { raw: number; smoothed: number };
}

export interface FaceCrops {
  frames: Frame[];
  track: FaceTrack;
  stats: FaceStats;
}

/** Detection frames: every k-th, and the last (so the end of a clip is not extrapolated). */
export const detectionFrames = (n: number, k: number) =>
  Array.from({ length: n }, (_, i) => i % Math.max(1, k) === 0 || i === n - 1);

/** The aligned face crops of `frames`, or null when no face was found in any checked frame. */
export async function cropFaces(
  frames: Frame[],
  detector: FaceDetector,
  o: FaceCropOptions,
): Promise<FaceCrops | null> {
  const check = detectionFrames(frames.length, o.detectEvery);
  const detections: (DetectedFace[] | undefined)[] = await Promise.all(
    frames.map((f, i) => (check[i] ? detector.detect(f) : Promise.resolve(undefined))),
  );
  const track = trackFace(detections);
  if (!track) return null;
  const crops = frames.map((f, i) => alignFace(f, track.frames[i].leftEye, track.frames[i].rightEye, o.size));
  const stats: FaceStats = {
    frames: frames.length,
    checked: track.checked,
    found: track.found,
    coverage: track.coverage,
    filled: track.filled,
    jitter: track.jitter,
  };
  return { frames: crops, track, stats };
}
