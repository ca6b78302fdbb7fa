// The rasteriser's shortcuts (tile culling, early-outs, gradient reuse) against brute force: every pixel's coverage
// computed from the exact distance.
import {
  Canvas,
  Ellipse,
  Implicit,
  Intersect,
  Outline,
  Polygon,
  RoundedRect,
  Stroke,
  quadBezier,
  type Shape,
  type Similarity,
} from '../../src/synth/raster.js';

function reference(shape: Shape, t: Similarity, size: number, soft = 0): Float32Array {
  const out = new Float32Array(size * size * 3);
  const ramp = Math.max(1, soft * t.scale);
  const cos = Math.cos(t.angle);
  const sin = Math.sin(t.angle);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const dx = px + 0.5 - t.tx;
      const dy = py + 0.5 - t.ty;
      const u = (cos * dx + sin * dy) / t.scale;
      const v = (-sin * dx + cos * dy) / t.scale;
      const c = Math.min(1, Math.max(0, 0.5 - (shape.sd(u, v) * t.scale) / ramp));
      out.fill(c, (py * size + px) * 3, (py * size + px) * 3 + 3);
    }
  }
  return out;
}

function drawn(shape: Shape, t: Similarity, size: number, soft = 0): Float32Array {
  const cv = new Canvas(size, size);
  cv.transform = t;
  cv.fill(shape, [1, 1, 1], 1, soft);
  return cv.data;
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

const poses: Similarity[] = [
  { scale: 38, angle: 0, tx: 56, ty: 60 },
  { scale: 11, angle: 0.17, tx: 17.3, ty: 15.8 },
  { scale: 80, angle: -0.4, tx: 70, ty: 40 },
];
const curve = quadBezier([-0.4, 0.1], [0, -0.3], [0.45, 0.05], 8);
const shapes: [string, () => Shape, number][] = [
  ['ellipse', () => new Ellipse(0.1, 0.2, 1.0, 1.3, 0.2), 1e-6],
  ['thin ellipse', () => new Ellipse(0, 1.5, 1.95, 0.8), 1e-6],
  ['tiny ellipse', () => new Ellipse(0.05, 0.3, 0.038, 0.021, 0.35), 1e-6],
  [
    'polygon',
    () =>
      new Polygon([
        [-0.5, 0],
        [0.1, -0.3],
        [0.6, 0.1],
        [0.2, 0.05],
        [0, 0.4],
      ]),
    1e-6,
  ],
  [
    'stroke',
    () =>
      new Stroke(
        curve,
        curve.map((_, i) => 0.02 + 0.01 * i),
      ),
    1e-6,
  ],
  ['rounded rect', () => new RoundedRect(0.2, -0.1, 0.5, 0.3, 0.1, 0.3), 1e-6],
  ['outline', () => new Outline(new RoundedRect(0, 0, 0.3, 0.2, 0.07), 0.02), 1e-6],
  [
    'intersect',
    () => new Intersect(new Ellipse(0.1, 0, 0.3, 0.3), new Polygon([...curve, [0.4, 0.4], [-0.4, 0.4]])),
    1e-6,
  ],
  // the gradient is reused over 2 pixels along the edge: approximate by design (within a tenth of a pixel's coverage)
  // (the face outline of draw-face.ts: an egg narrowing towards the chin)
  [
    'implicit',
    () =>
      new Implicit(
        (x, y) => Math.sqrt((x / (1 - 0.3 * Math.min(1.2, Math.max(0, y) / 1.3) ** 2)) ** 2 + (y / 1.3) ** 2) - 1,
        [-1.05, -1.35, 1.05, 1.35],
      ),
    0.05,
  ],
];

test.each(shapes)('%s: the tiled fill covers the same pixels as brute force', (_name, make, tol) => {
  for (const t of poses) {
    for (const soft of [0, 0.05]) {
      const size = 112;
      expect(maxDiff(drawn(make(), t, size, soft), reference(make(), t, size, soft))).toBeLessThanOrEqual(tol);
    }
  }
});
