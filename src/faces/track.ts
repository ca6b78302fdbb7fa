// One person through a clip: from the faces detected in some frames (every k-th), the face to follow (the largest
// first, then the one overlapping it most, so that a second face passing by does not make the crop jump), its eyes
// and box in every frame (interpolated between detections, copied from the nearest one at the ends), smoothed over
// time. Pure functions of the detections; no image work here.
import type { DetectedFace } from './detector.js';

export interface TrackedFace {
  box: [number, number, number, number];
  leftEye: [number, number];
  rightEye: [number, number];
  /** Detected in this frame (not interpolated or filled). */
  detected: boolean;
}

export interface FaceTrack {
  frames: TrackedFace[];
  /** Frames where detection ran. */
  checked: number;
  /** Of those, frames where the followed face was found. */
  found: number;
  /** found / checked. */
  coverage: number;
  /** Frames (of all) whose face was interpolated or filled from the nearest detection. */
  filled: number;
  /**
   * Frame-to-frame movement of the eyes' midpoint over consecutive frames, as a share of the eye distance (mean):
   * `raw` between consecutive detections, `smoothed` after smoothing (what the crops move by).
   */
  jitter: { raw: number; smoothed: number };
}

export interface TrackOptions {
  /** A face overlapping the followed one by less than this (intersection over union) is another face. */
  minOverlap?: number;
  /** After this many checked frames without the followed face, take the largest face again. */
  reacquireAfter?: number;
  /** Half-width, in frames, of the moving average that smooths eyes and box. */
  smooth?: number;
}

type Box = [number, number, number, number];

export function iou(a: Box, b: Box): number {
  const x1 = Math.max(a[0], b[0]);
  const y1 = Math.max(a[1], b[1]);
  const x2 = Math.min(a[0] + a[2], b[0] + b[2]);
  const y2 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

const area = (f: DetectedFace) => f.box[2] * f.box[3];
const centreDistance = (a: Box, b: Box) =>
  Math.hypot(a[0] + a[2] / 2 - (b[0] + b[2] / 2), a[1] + a[3] / 2 - (b[1] + b[3] / 2));
const lerp = (a: number, b: number, t: number) => a + (b - a) * t;
const lerpArr = <T extends number[]>(a: T, b: T, t: number) => a.map((v, i) => lerp(v, b[i], t)) as T;

/** Picks the followed face in each checked frame (undefined: detection did not run there; []: it found nothing). */
export function followFace(
  detections: (DetectedFace[] | undefined)[],
  o: TrackOptions = {},
): (DetectedFace | null | undefined)[] {
  const minOverlap = o.minOverlap ?? 0.2;
  const reacquireAfter = o.reacquireAfter ?? 5;
  let current: DetectedFace | null = null;
  let misses = 0;
  return detections.map((faces) => {
    if (faces === undefined) return undefined;
    let pick: DetectedFace | null = null;
    if (faces.length === 1 || (faces.length && (!current || misses >= reacquireAfter))) {
      // One face (nothing to confuse it with), or nothing followed yet: the largest.
      pick = faces.reduce((a, b) => (area(b) > area(a) ? b : a));
    } else if (faces.length) {
      // Several faces: the one overlapping the followed face most, else the nearest within a face width of it; a face
      // elsewhere is someone else, and the followed one counts as missed here.
      const c = current!;
      const best = faces.reduce((a, b) => (iou(b.box, c.box) > iou(a.box, c.box) ? b : a));
      if (iou(best.box, c.box) >= minOverlap) pick = best;
      else {
        const near = faces.reduce((a, b) => (centreDistance(b.box, c.box) < centreDistance(a.box, c.box) ? b : a));
        if (centreDistance(near.box, c.box) <= c.box[2]) pick = near;
      }
    }
    if (pick) {
      current = pick;
      misses = 0;
    } else misses++;
    return pick;
  });
}

const mid = (f: { leftEye: [number, number]; rightEye: [number, number] }): [number, number] => [
  (f.leftEye[0] + f.rightEye[0]) / 2,
  (f.leftEye[1] + f.rightEye[1]) / 2,
];
const eyeDistance = (f: { leftEye: [number, number]; rightEye: [number, number] }) =>
  Math.hypot(f.rightEye[0] - f.leftEye[0], f.rightEye[1] - f.leftEye[1]);

function meanMovement(faces: TrackedFace[]): number {
  let sum = 0;
  let n = 0;
  for (let i = 1; i < faces.length; i++) {
    const [a, b] = [mid(faces[i - 1]), mid(faces[i])];
    const d = eyeDistance(faces[i]);
    if (d > 0) {
      sum += Math.hypot(b[0] - a[0], b[1] - a[1]) / d;
      n++;
    }
  }
  return n ? sum / n : 0;
}

/** The followed face in every frame, or null when it was never found. */
export function trackFace(detections: (DetectedFace[] | undefined)[], o: TrackOptions = {}): FaceTrack | null {
  const picks = followFace(detections, o);
  const seen = picks.flatMap((p, i) => (p ? [i] : []));
  if (!seen.length) return null;
  const checked = picks.filter((p) => p !== undefined).length;
  const frames: TrackedFace[] = [];
  let next = 0; // index into seen of the first detection at or after i
  for (let i = 0; i < picks.length; i++) {
    while (next < seen.length && seen[next] < i) next++;
    const p = picks[i];
    if (p) {
      frames.push({ box: [...p.box], leftEye: [...p.leftEye], rightEye: [...p.rightEye], detected: true });
      continue;
    }
    const after = next < seen.length ? picks[seen[next]]! : null;
    const beforeAt = next > 0 ? seen[next - 1] : -1;
    const before = beforeAt >= 0 ? picks[beforeAt]! : null;
    const a = before ?? after!;
    const b = after ?? before!;
    // Between two detections of the same face, interpolate; across a cut (the face jumped by more than twice its eye
    // distance, or changed size by half) sliding the crop over the frame would show neither: hold the nearer one.
    const ratio = eyeDistance(a) / Math.max(eyeDistance(b), 1e-6);
    const cut =
      Math.hypot(mid(a)[0] - mid(b)[0], mid(a)[1] - mid(b)[1]) > 2 * eyeDistance(a) || ratio > 1.5 || ratio < 1 / 1.5;
    const span = before && after ? (i - beforeAt) / (seen[next] - beforeAt) : 0;
    const t = cut ? (span <= 0.5 ? 0 : 1) : span;
    frames.push({
      box: lerpArr(a.box, b.box, t),
      leftEye: lerpArr(a.leftEye, b.leftEye, t),
      rightEye: lerpArr(a.rightEye, b.rightEye, t),
      detected: false,
    });
  }
  const raw = meanMovement(frames.filter((f) => f.detected));
  const smoothed = smoothTrack(frames, o.smooth ?? 2);
  return {
    frames: smoothed,
    checked,
    found: seen.length,
    coverage: seen.length / Math.max(checked, 1),
    filled: frames.length - seen.length,
    jitter: { raw, smoothed: meanMovement(smoothed) },
  };
}

/** A centred moving average of eyes and box over 2h+1 frames (shorter at the ends). */
export function smoothTrack(frames: TrackedFace[], h: number): TrackedFace[] {
  if (h <= 0) return frames;
  return frames.map((f, i) => {
    const lo = Math.max(0, i - h);
    const hi = Math.min(frames.length - 1, i + h);
    const n = hi - lo + 1;
    const avg = <K extends 'box' | 'leftEye' | 'rightEye'>(k: K) => {
      const out = frames[i][k].map(() => 0) as TrackedFace[K];
      for (let j = lo; j <= hi; j++) frames[j][k].forEach((v, c) => (out[c] += v / n));
      return out;
    };
    return { box: avg('box'), leftEye: avg('leftEye'), rightEye: avg('rightEye'), detected: f.detected };
  });
}
