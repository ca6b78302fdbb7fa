// Aligned face crops: the similarity transform (rotation, scale, translation) that puts the eyes level at fixed
// places of a size x size crop, and a bilinear warp of the frame through it. The eye placement gives a crop with a
// margin around the face like DFEW's released clip_224x224 crops (eyes at 40% of the height, 32% of the width apart).
import { bilinearAt, type Frame } from '../data/images.js';

export const EYE_LINE = 0.4; // eye height, as a share of the crop's side
export const EYE_SPACING = 0.32; // eye distance, as a share of the crop's side

/** The crop of `frame` with the eyes at their fixed places; borders are replicated where the crop leaves the frame. */
export function alignFace(frame: Frame, leftEye: [number, number], rightEye: [number, number], size: number): Frame {
  const dx = rightEye[0] - leftEye[0];
  const dy = rightEye[1] - leftEye[1];
  const dist = Math.hypot(dx, dy) || 1;
  // Source pixels per crop pixel, and the rotation of the eye line.
  const k = dist / (EYE_SPACING * size);
  const cos = (dx / dist) * k;
  const sin = (dy / dist) * k;
  const cx = (leftEye[0] + rightEye[0]) / 2;
  const cy = (leftEye[1] + rightEye[1]) / 2;
  const out = new Uint8Array(size * size * 3);
  const rgb = new Float64Array(3);
  for (let v = 0; v < size; v++) {
    const ry = v + 0.5 - EYE_LINE * size;
    for (let u = 0; u < size; u++) {
      const rx = u + 0.5 - size / 2;
      // crop (u, v) -> source (x, y): rotate by the eye line's angle and scale, about the eyes' midpoint
      bilinearAt(frame, cx + cos * rx - sin * ry - 0.5, cy + sin * rx + cos * ry - 0.5, rgb);
      const o = (v * size + u) * 3;
      for (let ch = 0; ch < 3; ch++) out[o + ch] = Math.round(rgb[ch]);
    }
  }
  return { width: size, height: size, data: out };
}
