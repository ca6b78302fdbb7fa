// A small anti-aliased rasteriser for the synthetic faces: filled shapes given by signed distance functions (SDFs).
//
// Every shape is drawn in its own 2-D coordinates ("face units"; the face is about 2 units wide) and mapped to pixels
// by the canvas's similarity transform (scale, rotation, translation), so head pose is one transform rather than
// code in every shape. Coverage is analytic: a pixel whose centre lies d pixels inside the edge is covered
// clamp(0.5 + d / w) (w = 1 px, or the shape's softness), which anti-aliases hard edges at any scale and rotation
// and blurs soft ones (wrinkles, shading, out-of-focus clutter) without a separate blur pass.
//
// Colours are floats in [0, 1] per channel, RGB, row-major HWC, like Frame (src/data/images.ts) before quantisation.

// Math through a module constant: a global lookup in a hot loop is slow where the global object is intercepted
// (Node vm contexts, e.g. jest: 30x slower per call).
const M = Math;

export type Rgb = readonly [number, number, number];

/** A 2-D shape: its bounding box and signed distance (negative inside), both in the shape's own units. */
export interface Shape {
  bbox(): [x0: number, y0: number, x1: number, y1: number];
  sd(x: number, y: number): number;
  /**
   * Called by Canvas.fill before drawing, with the width of the edge ramp and of a pixel in shape units: shapes may cut
   * corners where that cannot change a pixel's coverage.
   */
  prepare?(edge: number, pixel: number): void;
  /** A bound on how fast sd changes per unit of distance (1 for exact distances; default 1). */
  readonly lipschitz?: number;
}

/** A colour that may vary over the shape (gradients, shading); writes RGB into out[0..2]. */
export type PaintFn = (x: number, y: number, out: Float32Array) => void;
export type Paint = Rgb | PaintFn;

/** Face units -> pixels: p = t + scale * R(angle) * u. */
export interface Similarity {
  scale: number;
  angle: number; // radians, clockwise on screen (y points down)
  tx: number;
  ty: number;
}

export const IDENTITY_TRANSFORM: Similarity = { scale: 1, angle: 0, tx: 0, ty: 0 };

const clamp01 = (v: number) => (v < 0 ? 0 : Math.min(v, 1));

export class Canvas {
  readonly data: Float32Array;
  transform: Similarity = IDENTITY_TRANSFORM;
  private readonly colour = new Float32Array(3);

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Float32Array(width * height * 3);
  }

  clear(c: Rgb): void {
    for (let i = 0; i < this.data.length; i += 3) {
      this.data[i] = c[0];
      this.data[i + 1] = c[1];
      this.data[i + 2] = c[2];
    }
  }

  /**
   * Blends `paint` over the shape with the given opacity. `soft` (in shape units) widens the edge ramp: 0 is a crisp
   * anti-aliased edge, larger values fade the shape out over that distance.
   */
  fill(shape: Shape, paint: Paint, opacity = 1, soft = 0): void {
    if (opacity <= 0) return;
    const { scale, angle, tx, ty } = this.transform;
    const cos = M.cos(angle);
    const sin = M.sin(angle);
    const ramp = M.max(1, soft * scale); // edge width in pixels
    // The shape's box, mapped to pixels (all four corners: the transform may rotate it), grown by the ramp.
    const [bx0, by0, bx1, by1] = shape.bbox();
    let px0 = Infinity;
    let py0 = Infinity;
    let px1 = -Infinity;
    let py1 = -Infinity;
    for (const [u, v] of [
      [bx0, by0],
      [bx1, by0],
      [bx0, by1],
      [bx1, by1],
    ]) {
      const x = tx + scale * (cos * u - sin * v);
      const y = ty + scale * (sin * u + cos * v);
      px0 = M.min(px0, x);
      py0 = M.min(py0, y);
      px1 = M.max(px1, x);
      py1 = M.max(py1, y);
    }
    const x0 = M.max(0, M.floor(px0 - ramp));
    const y0 = M.max(0, M.floor(py0 - ramp));
    const x1 = M.min(this.width - 1, M.ceil(px1 + ramp));
    const y1 = M.min(this.height - 1, M.ceil(py1 + ramp));
    if (x0 > x1 || y0 > y1) return;

    shape.prepare?.(ramp / scale, 1 / scale);
    const solid = typeof paint === 'function' ? null : paint;
    const fn = typeof paint === 'function' ? paint : null;
    const c = this.colour;
    if (solid) {
      c[0] = solid[0];
      c[1] = solid[1];
      c[2] = solid[2];
    }
    const inv = 1 / scale;
    const data = this.data;
    const width = this.width;
    // Pixel centres map back to shape units by u = R(-angle) (p - t) / scale; one pixel right adds (du, dv).
    const du = cos * inv;
    const dv = -sin * inv;
    // Tiles of TILE x TILE pixels: one distance at the tile centre decides whether the whole tile is outside (skip),
    // inside (no per-pixel distance), or on the edge (per pixel). Sound because |sd| changes by at most
    // lipschitz x distance (the half-diagonal of the tile). Edge tiles cost a distance per pixel; inside tiles a blend.
    const reach = (shape.lipschitz ?? 1) * TILE * M.SQRT1_2;
    const tiles = M.ceil((x1 - x0 + 1) / TILE);
    const state = new Uint8Array(tiles); // per tile of the current tile row: OUT, FULL or EDGE
    const [s0, s1, s2] = solid ?? [0, 0, 0];
    for (let ty0 = y0; ty0 <= y1; ty0 += TILE) {
      const ty1 = M.min(y1, ty0 + TILE - 1);
      const cy = (ty0 + ty1) / 2 + 0.5 - ty;
      for (let k = 0; k < tiles; k++) {
        const cx = x0 + k * TILE + (M.min(x1, x0 + k * TILE + TILE - 1) - x0 - k * TILE) / 2 + 0.5 - tx;
        const d = shape.sd((cos * cx + sin * cy) * inv, (-sin * cx + cos * cy) * inv) * scale;
        state[k] = d - reach >= 0.5 * ramp ? OUT : d + reach <= -0.5 * ramp ? FULL : EDGE;
      }
      for (let py = ty0; py <= ty1; py++) {
        const oy = py + 0.5 - ty;
        // Runs of tiles in the same state are drawn as one span of the pixel row.
        for (let k = 0; k < tiles; ) {
          const st = state[k];
          let k2 = k;
          while (k2 + 1 < tiles && state[k2 + 1] === st) k2++;
          const px0 = x0 + k * TILE;
          const px1 = M.min(x1, x0 + (k2 + 1) * TILE - 1);
          k = k2 + 1;
          if (st === OUT) continue;
          const ox = px0 + 0.5 - tx;
          let u = (cos * ox + sin * oy) * inv;
          let v = (-sin * ox + cos * oy) * inv;
          let i = (py * width + px0) * 3;
          if (st === FULL && !fn) {
            for (let px = px0; px <= px1; px++, i += 3) {
              data[i] += (s0 - data[i]) * opacity;
              data[i + 1] += (s1 - data[i + 1]) * opacity;
              data[i + 2] += (s2 - data[i + 2]) * opacity;
            }
            continue;
          }
          for (let px = px0; px <= px1; px++, i += 3, u += du, v += dv) {
            let a = opacity;
            if (st === EDGE) {
              const cover = clamp01(0.5 - (shape.sd(u, v) * scale) / ramp);
              if (cover <= 0) continue;
              a *= cover;
            }
            if (fn) fn(u, v, c);
            data[i] += (c[0] - data[i]) * a;
            data[i + 1] += (c[1] - data[i + 1]) * a;
            data[i + 2] += (c[2] - data[i + 2]) * a;
          }
        }
      }
    }
  }
}

// Tile states in Canvas.fill.
const OUT = 0;
const FULL = 1;
const EDGE = 2;

/** Side of the tiles Canvas.fill classifies as outside / inside / edge. */
const TILE = 4;

// ---------------------------------------------------------------------------------------------------------------
// Shapes

/**
 * An ellipse with semi-axes rx, ry, rotated by `angle`. The distance is first-order: exact on the edge, changing at
 * most ~1.4x as fast as the true distance near it for axis ratios up to 2.5 (measured), hence lipschitz 1.5.
 */
export class Ellipse implements Shape {
  readonly lipschitz = 1.5;
  private readonly cos: number;
  private readonly sin: number;
  constructor(
    readonly cx: number,
    readonly cy: number,
    readonly rx: number,
    readonly ry: number,
    readonly angle = 0,
  ) {
    this.cos = M.cos(angle);
    this.sin = M.sin(angle);
  }

  bbox(): [number, number, number, number] {
    // Exact box of a rotated ellipse.
    const hx = M.sqrt((this.rx * this.cos) ** 2 + (this.ry * this.sin) ** 2);
    const hy = M.sqrt((this.rx * this.sin) ** 2 + (this.ry * this.cos) ** 2);
    return [this.cx - hx, this.cy - hy, this.cx + hx, this.cy + hy];
  }

  sd(x: number, y: number): number {
    const dx = x - this.cx;
    const dy = y - this.cy;
    const lx = (this.cos * dx + this.sin * dy) / this.rx;
    const ly = (-this.sin * dx + this.cos * dy) / this.ry;
    const k = M.sqrt(lx * lx + ly * ly);
    if (k < 1e-9) return -M.min(this.rx, this.ry);
    // F = k - 1 divided by |grad F| = |(lx / rx, ly / ry)| / k.
    const gx = lx / this.rx;
    const gy = ly / this.ry;
    const g = M.sqrt(gx * gx + gy * gy) / k;
    return (k - 1) / g;
  }
}

/** A closed polygon (any winding, may be concave): exact signed distance. */
export class Polygon implements Shape {
  readonly xs: Float64Array;
  readonly ys: Float64Array;
  private readonly box: [number, number, number, number];
  private band = Infinity;
  constructor(points: readonly (readonly [number, number])[]) {
    this.xs = Float64Array.from(points, (p) => p[0]);
    this.ys = Float64Array.from(points, (p) => p[1]);
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (let i = 0; i < this.xs.length; i++) {
      x0 = M.min(x0, this.xs[i]);
      x1 = M.max(x1, this.xs[i]);
      y0 = M.min(y0, this.ys[i]);
      y1 = M.max(y1, this.ys[i]);
    }
    this.box = [x0, y0, x1, y1];
  }

  bbox(): [number, number, number, number] {
    return this.box;
  }

  prepare(edge: number): void {
    this.band = edge;
  }

  sd(x: number, y: number): number {
    // Far outside the box, the distance to the box (a lower bound) already says "not covered".
    const [x0, y0, x1, y1] = this.box;
    const ox = M.max(x0 - x, x - x1, 0);
    const oy = M.max(y0 - y, y - y1, 0);
    if (ox > this.band || oy > this.band) return M.sqrt(ox * ox + oy * oy);
    // Distance to the nearest edge; the sign from the crossing-number test (after Inigo Quilez's sdPolygon).
    const { xs, ys } = this;
    const n = xs.length;
    let d = (x - xs[0]) * (x - xs[0]) + (y - ys[0]) * (y - ys[0]);
    let inside = false;
    for (let i = 0, j = n - 1; i < n; j = i, i++) {
      const ex = xs[j] - xs[i];
      const ey = ys[j] - ys[i];
      const wx = x - xs[i];
      const wy = y - ys[i];
      const ee = ex * ex + ey * ey;
      const t = ee > 0 ? clamp01((wx * ex + wy * ey) / ee) : 0;
      const bx = wx - ex * t;
      const by = wy - ey * t;
      d = M.min(d, bx * bx + by * by);
      const a = y >= ys[i];
      const b = y < ys[j];
      const c = ex * wy > ey * wx;
      if ((a && b && c) || (!a && !b && !c)) inside = !inside;
    }
    return inside ? -M.sqrt(d) : M.sqrt(d);
  }
}

/** A polyline stroked with a half-width that varies linearly along each segment (round joins and caps). */
export class Stroke implements Shape {
  constructor(
    readonly points: readonly (readonly [number, number])[],
    readonly halfWidths: readonly number[],
  ) {
    if (points.length !== halfWidths.length || points.length < 2)
      throw new RangeError('Stroke needs >= 2 points, one half-width each');
  }

  bbox(): [number, number, number, number] {
    const h = M.max(...this.halfWidths);
    const xs = this.points.map((p) => p[0]);
    const ys = this.points.map((p) => p[1]);
    return [M.min(...xs) - h, M.min(...ys) - h, M.max(...xs) + h, M.max(...ys) + h];
  }

  sd(x: number, y: number): number {
    const p = this.points;
    const hw = this.halfWidths;
    let best = Infinity;
    for (let i = 0; i + 1 < p.length; i++) {
      const ax = p[i][0];
      const ay = p[i][1];
      const ex = p[i + 1][0] - ax;
      const ey = p[i + 1][1] - ay;
      const ee = ex * ex + ey * ey;
      const t = ee > 0 ? clamp01(((x - ax) * ex + (y - ay) * ey) / ee) : 0;
      const qx = x - ax - ex * t;
      const qy = y - ay - ey * t;
      const d = M.sqrt(qx * qx + qy * qy) - (hw[i] + (hw[i + 1] - hw[i]) * t);
      if (d < best) best = d;
    }
    return best;
  }
}

/**
 * A shape given by an implicit function F (negative inside, |grad F| roughly 1 near the edge); distance ~ F / |grad F|
 * by a numerical gradient. Far from the edge (|F| beyond a few edge widths) F itself is returned: only its sign
 * matters there, and skipping the gradient saves two of the three evaluations for most pixels.
 */
export class Implicit implements Shape {
  private band = Infinity;
  private reuse = 0;
  // The last gradient and where it was taken: neighbouring pixels reuse it (it turns slowly along the edge).
  private gx = 0;
  private gy = 0;
  private at = [NaN, NaN];

  constructor(
    private readonly f: (x: number, y: number) => number,
    private readonly box: [number, number, number, number],
    /** How fast F itself changes (F is returned far from the edge): a bound on |grad F|. */
    readonly lipschitz = 2,
    private readonly h = 1e-3,
  ) {}

  bbox(): [number, number, number, number] {
    return this.box;
  }

  prepare(edge: number, pixel: number): void {
    this.band = 4 * edge;
    this.reuse = 1.5 * pixel;
    this.at = [NaN, NaN];
  }

  sd(x: number, y: number): number {
    const f = this.f(x, y);
    if (f > this.band || f < -this.band) return f;
    if (!(M.abs(x - this.at[0]) + M.abs(y - this.at[1]) <= this.reuse)) {
      this.gx = (this.f(x + this.h, y) - f) / this.h;
      this.gy = (this.f(x, y + this.h) - f) / this.h;
      this.at = [x, y];
    }
    const g = M.sqrt(this.gx * this.gx + this.gy * this.gy);
    return g > 1e-9 ? f / g : f;
  }
}

/** The part of `a` inside `b` (its box is a's). */
export class Intersect implements Shape {
  readonly lipschitz: number;
  constructor(
    readonly a: Shape,
    readonly b: Shape,
  ) {
    this.lipschitz = M.max(a.lipschitz ?? 1, b.lipschitz ?? 1);
  }
  bbox() {
    return this.a.bbox();
  }
  prepare(edge: number, pixel: number): void {
    this.a.prepare?.(edge, pixel);
    this.b.prepare?.(edge, pixel);
    this.band = edge;
  }
  private band = Infinity;
  sd(x: number, y: number): number {
    // Outside a (by more than an edge width) is outside the intersection: b need not be evaluated.
    const da = this.a.sd(x, y);
    return da > this.band ? da : M.max(da, this.b.sd(x, y));
  }
}

/** The outline of a shape, `halfWidth` either side of its edge (glasses frames). */
export class Outline implements Shape {
  readonly lipschitz: number;
  constructor(
    readonly shape: Shape,
    readonly halfWidth: number,
  ) {
    this.lipschitz = shape.lipschitz ?? 1;
  }
  bbox(): [number, number, number, number] {
    const [x0, y0, x1, y1] = this.shape.bbox();
    const h = this.halfWidth;
    return [x0 - h, y0 - h, x1 + h, y1 + h];
  }
  // No prepare(): |sd| needs the inner shape's exact distance on both sides of its edge, so its shortcuts stay off.
  sd(x: number, y: number): number {
    return M.abs(this.shape.sd(x, y)) - this.halfWidth;
  }
}

/** A rectangle of half-sizes (hx, hy) with corner radius r, rotated by `angle` about its centre: exact distance. */
export class RoundedRect implements Shape {
  private readonly cos: number;
  private readonly sin: number;
  constructor(
    readonly cx: number,
    readonly cy: number,
    readonly hx: number,
    readonly hy: number,
    readonly r: number,
    readonly angle = 0,
  ) {
    this.cos = M.cos(angle);
    this.sin = M.sin(angle);
  }
  bbox(): [number, number, number, number] {
    const ex = M.abs(this.hx * this.cos) + M.abs(this.hy * this.sin);
    const ey = M.abs(this.hx * this.sin) + M.abs(this.hy * this.cos);
    return [this.cx - ex, this.cy - ey, this.cx + ex, this.cy + ey];
  }
  sd(x: number, y: number): number {
    const dx = x - this.cx;
    const dy = y - this.cy;
    const lx = M.abs(this.cos * dx + this.sin * dy) - this.hx + this.r;
    const ly = M.abs(-this.sin * dx + this.cos * dy) - this.hy + this.r;
    const mx = M.max(lx, 0);
    const my = M.max(ly, 0);
    return M.sqrt(mx * mx + my * my) + M.min(M.max(lx, ly), 0) - this.r;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Curves

/** n + 1 points of the quadratic Bezier curve p0 -> p2 pulled towards control point c. */
export function quadBezier(
  p0: readonly [number, number],
  c: readonly [number, number],
  p2: readonly [number, number],
  n: number,
): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i <= n; i++) {
    const t = i / n;
    const a = (1 - t) * (1 - t);
    const b = 2 * (1 - t) * t;
    const d = t * t;
    out.push([a * p0[0] + b * c[0] + d * p2[0], a * p0[1] + b * c[1] + d * p2[1]]);
  }
  return out;
}

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

export function scaleRgb(a: Rgb, k: number): Rgb {
  return [a[0] * k, a[1] * k, a[2] * k];
}
