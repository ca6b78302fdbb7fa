// The similarity transform puts the eyes level at fixed places of the crop, whatever the face's position, size and
// tilt.
import { alignFace, EYE_LINE, EYE_SPACING } from '../../src/faces/align.js';
import type { Frame } from '../../src/data/images.js';

/** A grey frame with two bright 3x3 eye dots. */
function frameWithEyes(w: number, h: number, l: [number, number], r: [number, number]): Frame {
  const data = new Uint8Array(w * h * 3).fill(40);
  for (const [x, y] of [l, r]) {
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++)
        data.fill(
          250,
          ((Math.round(y) + dy) * w + Math.round(x) + dx) * 3,
          ((Math.round(y) + dy) * w + Math.round(x) + dx) * 3 + 3,
        );
  }
  return { width: w, height: h, data };
}

/** The brightest pixel's position in each half of the crop. */
function brightest(f: Frame): [number, number][] {
  const out: [number, number][] = [];
  for (const half of [0, 1]) {
    let best = -1;
    let at: [number, number] = [0, 0];
    for (let y = 0; y < f.height; y++) {
      for (let x = (half * f.width) / 2; x < ((half + 1) * f.width) / 2; x++) {
        const v = f.data[(y * f.width + x) * 3];
        if (v > best) [best, at] = [v, [x, y]];
      }
    }
    out.push(at);
  }
  return out;
}

test.each([
  ['level', [200, 150], [260, 150]],
  ['tilted 30 degrees, small', [300, 200], [300 + 30 * Math.cos(Math.PI / 6), 200 + 30 * Math.sin(Math.PI / 6)]],
  ['near the border', [5, 20], [45, 22]],
] as const)("eyes land at (%s) the crop's eye line, %s apart", (_, l, r) => {
  const size = 100;
  const crop = alignFace(frameWithEyes(400, 300, [...l], [...r]), [...l], [...r], size);
  expect([crop.width, crop.height]).toEqual([size, size]);
  const [a, b] = brightest(crop);
  const want = [size / 2 - (EYE_SPACING * size) / 2, size / 2 + (EYE_SPACING * size) / 2];
  expect(Math.abs(a[0] - want[0])).toBeLessThanOrEqual(2);
  expect(Math.abs(b[0] - want[1])).toBeLessThanOrEqual(2);
  expect(Math.abs(a[1] - EYE_LINE * size)).toBeLessThanOrEqual(2);
  expect(Math.abs(b[1] - EYE_LINE * size)).toBeLessThanOrEqual(2);
});
