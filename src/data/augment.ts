// Clip augmentation of the official code (video_transform.py), drawn once per clip and applied identically to every
// frame: random area crop (0.85-1 of the frame, aspect 3/5-5/3, sides swapped with p 0.5) resized to the model input,
// horizontal flip (p 0.5), brightness factor in [0.4, 1.6], rotation up to 4 degrees. Test mode: resize only.
// Crop, resize, flip and rotation compose into one inverse affine map, so each output pixel is one bilinear lookup.
import type { Rng } from '../random.js';
import { bilinearAt, type Frame } from './images.js';

export interface AugmentParams {
  crop: { x: number; y: number; w: number; h: number }; // in source pixels
  flip: boolean;
  brightness: number; // multiplicative, result clipped to [0, 255] (PIL ImageEnhance.Brightness)
  angle: number; // degrees, counter-clockwise, about the output centre; corners filled with black
}

export interface AugmentSettings {
  area: [number, number];
  aspect: [number, number];
  flip: number; // probability
  brightness: [number, number];
  rotation: number; // max |degrees|
}

export const OFFICIAL_AUGMENT: AugmentSettings = {
  area: [0.85, 1],
  aspect: [3 / 5, 5 / 3],
  flip: 0.5,
  brightness: [0.4, 1.6],
  rotation: 4,
};

/** No augmentation: the whole frame, resized (test mode). */
export function identityAugment(width: number, height: number): AugmentParams {
  return { crop: { x: 0, y: 0, w: width, h: height }, flip: false, brightness: 1, angle: 0 };
}

/** Draw one clip's augmentation (GroupRandomSizedCrop's 10 attempts, then a centre crop as fallback). */
export function drawAugment(
  rng: Rng,
  width: number,
  height: number,
  s: AugmentSettings = OFFICIAL_AUGMENT,
): AugmentParams {
  let crop: AugmentParams['crop'] | undefined;
  for (let attempt = 0; attempt < 10 && !crop; attempt++) {
    const area = rng.uniform(s.area[0], s.area[1]) * width * height;
    const aspect = rng.uniform(s.aspect[0], s.aspect[1]);
    let w = Math.round(Math.sqrt(area * aspect));
    let h = Math.round(Math.sqrt(area / aspect));
    if (rng.next() < 0.5) [w, h] = [h, w];
    if (w <= width && h <= height) crop = { x: rng.int(width - w + 1), y: rng.int(height - h + 1), w, h };
  }
  if (!crop) {
    const side = Math.min(width, height);
    crop = { x: Math.floor((width - side) / 2), y: Math.floor((height - side) / 2), w: side, h: side };
  }
  return {
    crop,
    flip: rng.next() < s.flip,
    brightness: rng.uniform(s.brightness[0], s.brightness[1]),
    angle: rng.uniform(-s.rotation, s.rotation),
  };
}

/**
 * Render one frame at size x size into `out` (float RGB in [0, 1], HWC) starting at `offset`.
 * Inverse map per output pixel: undo rotation about the centre, undo the flip, scale into the crop, bilinear sample.
 */
export function renderFrame(frame: Frame, p: AugmentParams, size: number, out: Float32Array, offset = 0): void {
  const rgb = new Float64Array(3);
  const rad = (p.angle * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  const c = (size - 1) / 2;
  const sx = p.crop.w / size;
  const sy = p.crop.h / size;
  const scale = p.brightness / 255;
  let o = offset;
  for (let yo = 0; yo < size; yo++) {
    for (let xo = 0; xo < size; xo++, o += 3) {
      // rotate the output position back (counter-clockwise rotation of the image = clockwise of the sampling grid)
      const dx = xo - c;
      const dy = yo - c;
      let xr = cos * dx - sin * dy + c;
      const yr = sin * dx + cos * dy + c;
      if (xr < -0.5 || xr > size - 0.5 || yr < -0.5 || yr > size - 0.5) {
        out[o] = out[o + 1] = out[o + 2] = 0;
        continue;
      }
      if (p.flip) xr = size - 1 - xr;
      // pixel centres: output (x + 0.5) maps to crop (x + 0.5) * sx (align_corners=False, as PIL/torch resize)
      bilinearAt(frame, p.crop.x + (xr + 0.5) * sx - 0.5, p.crop.y + (yr + 0.5) * sy - 0.5, rgb);
      for (let ch = 0; ch < 3; ch++) {
        const v = rgb[ch] * scale;
        out[o + ch] = Math.min(v, 1);
      }
    }
  }
}
