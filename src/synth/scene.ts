// Everything about a clip that is not the expression: head pose and its drift, lighting, the background, an
// occasional occluder, blinks, gaze and talking, and sensor noise. These are the nuisances a recogniser must ignore;
// none of them depends on the class (the draws are the same whatever the clip's class), and the knobs below scale them.
import type { Rng } from '../random.js';
import { between, clamp, pick, sign } from './distributions.js';
import type { Identity } from './face.js';
import { Canvas, Ellipse, RoundedRect, Stroke, quadBezier, scaleRgb, type Rgb, type Shape } from './raster.js';

// Math through a module constant: a global lookup in a hot loop is slow where the global object is intercepted
// (Node vm contexts, e.g. jest: 30x slower per call).
const M = Math;

/** How hard the nuisances make the benchmark. 1 (or the defaults) is the calibrated setting; 0 turns one off. */
export interface NuisanceKnobs {
  /** Sensor noise: standard deviation in grey levels (0..255) of the per-pixel Gaussian-like noise. */
  noise: number;
  /** Share of clips with an occluder (a hand, an object, a strand of hair) over part of the face. */
  occlusion: number;
  /** Scales head position, size, rotation, yaw and their drift and sway over the clip. */
  poseJitter: number;
  /** Scales the number and contrast of background shapes. */
  clutter: number;
  /** Scales brightness, contrast, colour-temperature and gradient variation (and the key light on the face). */
  lighting: number;
  /** Per-clip spread of each action unit's weight around its class prototype (see face.ts). */
  auJitter: number;
  /** Share of clips in which the person talks (the mouth opens and closes, whatever the class). */
  talk: number;
}

// Calibrated so that the small preset learns the default set in minutes on a CPU without saturating it (docs/data.md,
// "Calibration"); the harder set of the first release was { noise: 3, occlusion: 0.15, poseJitter: 1, clutter: 1,
// lighting: 1, auJitter: 0.2, talk: 0.2 } with intensity Beta(1.5, 1).
export const DEFAULT_KNOBS: NuisanceKnobs = {
  noise: 1,
  occlusion: 0.05,
  poseJitter: 0.4,
  clutter: 0.4,
  lighting: 0.4,
  auJitter: 0.15,
  talk: 0.1,
};

export interface Pose {
  /** Face centre (fraction of the frame), face half-width (fraction of the frame side), roll and yaw (radians). */
  x: number;
  y: number;
  scale: number;
  roll: number;
  yaw: number;
  /** Linear change over the whole clip (scale: relative). */
  drift: { x: number; y: number; scale: number; roll: number; yaw: number };
  /** Slow sinusoidal sway (amplitudes), its period in frames and phase. */
  sway: { x: number; y: number; roll: number; yaw: number; period: number; phase: number };
}

export interface Lighting {
  brightness: number;
  contrast: number;
  /** A linear gain gradient across the frame: 1 +- gradient along direction `angle`. */
  gradient: number;
  angle: number;
  /** Per-channel colour temperature gains. */
  tint: Rgb;
  /** Brightness flicker amplitude, period (frames) and phase. */
  flicker: number;
  flickerPeriod: number;
  flickerPhase: number;
  /** Key light on the face (face units; see draw-face.ts). */
  faceX: number;
  faceY: number;
}

export interface ClutterItem {
  kind: 'rect' | 'ellipse' | 'stripe';
  x: number;
  y: number;
  w: number;
  h: number;
  angle: number;
  colour: Rgb;
  opacity: number;
  /** Edge softness (out of focus), in frame units. */
  soft: number;
}

export interface Background {
  top: Rgb;
  bottom: Rgb;
  items: ClutterItem[];
}

export interface Occluder {
  kind: 'hand' | 'object' | 'strand';
  /** Centre in face units, size, angle; moves by (driftX, driftY) over the clip. */
  x: number;
  y: number;
  size: number;
  angle: number;
  colour: Rgb;
  driftX: number;
  driftY: number;
}

export interface Scene {
  pose: Pose;
  lighting: Lighting;
  background: Background;
  occluder: Occluder | null;
  clothing: Rgb;
  /** Frames (0-based) where a blink starts. */
  blinks: number[];
  /** Gaze from a frame on (the first at frame 0). */
  gaze: { from: number; x: number; y: number }[];
  /** Talking: the mouth opens by amp * max(0, sin(2 pi t / period + phase)) (AU25, half of it AU26). */
  talk: { amp: number; period: number; phase: number } | null;
  /** Noise standard deviation (grey levels) and the seed of the noise stream. */
  noise: number;
  noiseSeed: number;
}

function mutedColour(rng: Rng, vLo = 0.25, vHi = 0.85, sHi = 0.4): Rgb {
  // HSV with limited saturation: real backgrounds are rarely saturated, and flat saturated areas (max - min channel
  // above 96 levels) look like damage to dfer prepare's frame check (src/data/quality.ts).
  const h = rng.next() * 6;
  const s = between(rng, 0.05, sHi);
  const v = between(rng, vLo, vHi);
  const i = M.floor(h);
  const f = h - i;
  const p = v * (1 - s);
  const q = v * (1 - s * f);
  const t = v * (1 - s * (1 - f));
  return (
    [
      [v, t, p],
      [q, v, p],
      [p, v, t],
      [p, q, v],
      [t, p, v],
      [v, p, q],
    ] as Rgb[]
  )[i % 6];
}

/** The nuisances of one clip of n frames. A fixed sequence of draws: the same for every class. */
export function drawScene(rng: Rng, k: NuisanceKnobs, n: number): Scene {
  const j = k.poseJitter;
  const pose: Pose = {
    x: 0.5 + j * between(rng, -0.06, 0.06),
    y: 0.55 + j * between(rng, -0.05, 0.05),
    scale: 0.34 * (1 + j * between(rng, -0.12, 0.12)),
    roll: clamp(j * 0.07 * rng.normal(), -0.2, 0.2),
    yaw: j * between(rng, -0.25, 0.25),
    drift: {
      x: j * between(rng, -0.05, 0.05),
      y: j * between(rng, -0.03, 0.03),
      scale: j * between(rng, -0.08, 0.08),
      roll: j * between(rng, -0.06, 0.06),
      yaw: j * between(rng, -0.12, 0.12),
    },
    sway: {
      x: j * between(rng, 0, 0.015),
      y: j * between(rng, 0, 0.01),
      roll: j * between(rng, 0, 0.03),
      yaw: j * between(rng, 0, 0.06),
      period: between(rng, 15, 45),
      phase: between(rng, 0, 2 * M.PI),
    },
  };
  const L = k.lighting;
  const warm = between(rng, -1, 1);
  const lighting: Lighting = {
    brightness: 1 + L * between(rng, -0.2, 0.12),
    contrast: 1 + L * between(rng, -0.25, 0.12),
    gradient: L * between(rng, 0, 0.4),
    angle: between(rng, 0, 2 * M.PI),
    tint: [1 + 0.07 * L * warm, 1, 1 - 0.07 * L * warm],
    flicker: L * between(rng, 0, 0.025),
    flickerPeriod: between(rng, 4, 20),
    flickerPhase: between(rng, 0, 2 * M.PI),
    faceX: L * between(rng, -0.25, 0.25),
    faceY: L * between(rng, -0.1, 0.15),
  };
  const items: ClutterItem[] = [];
  const count = M.round(k.clutter * between(rng, 4, 12));
  for (let i = 0; i < count; i++) {
    items.push({
      kind: pick(rng, ['rect', 'ellipse', 'stripe'] as const, [3, 2, 2]),
      x: rng.next(),
      y: rng.next(),
      w: between(rng, 0.05, 0.35),
      h: between(rng, 0.05, 0.35),
      angle: rng.next() < 0.6 ? 0 : between(rng, -0.6, 0.6),
      colour: mutedColour(rng, 0.15, 0.9, 0.35),
      opacity: clamp(k.clutter * between(rng, 0.3, 0.85), 0, 1),
      soft: rng.next() < 0.5 ? between(rng, 0.005, 0.04) : 0,
    });
  }
  const background: Background = { top: mutedColour(rng), bottom: mutedColour(rng), items };

  // The occluder: drawn whatever k.occlusion says (a fixed number of draws), kept with probability k.occlusion.
  const occludes = rng.next() < k.occlusion;
  const kind = pick(rng, ['hand', 'object', 'strand'] as const, [3, 2, 1]);
  const side = sign(rng);
  const occluder: Occluder = {
    kind,
    x: kind === 'strand' ? side * between(rng, 0.2, 0.5) : between(rng, -0.55, 0.55),
    y:
      kind === 'hand' ? between(rng, 0.35, 0.95) : kind === 'object' ? between(rng, 0.6, 1.2) : between(rng, -0.4, 0.0),
    size:
      kind === 'hand'
        ? between(rng, 0.32, 0.5)
        : kind === 'object'
          ? between(rng, 0.14, 0.24)
          : between(rng, 0.06, 0.1),
    angle: between(rng, -0.6, 0.6),
    colour: kind === 'object' ? mutedColour(rng, 0.1, 0.7, 0.45) : [0, 0, 0],
    driftX: between(rng, -0.15, 0.15),
    driftY: between(rng, -0.15, 0.15),
  };

  const clothing = mutedColour(rng, 0.1, 0.8, 0.45);
  const blinks: number[] = [];
  for (let t = 0; t < n; t++) {
    // About one blink every 40 frames, never two at once.
    if (rng.next() < 1 / 40 && (blinks.length === 0 || t - blinks[blinks.length - 1] > 6)) blinks.push(t);
  }
  const gaze = [{ from: 0, x: between(rng, -0.5, 0.5), y: between(rng, -0.3, 0.3) }];
  const saccade = rng.next() < 0.5;
  const g2 = { from: M.floor(between(rng, 0.2, 0.8) * n), x: between(rng, -0.5, 0.5), y: between(rng, -0.3, 0.3) };
  if (saccade) gaze.push(g2);
  const talks = rng.next() < k.talk;
  const talk = { amp: between(rng, 0.15, 0.35), period: between(rng, 5, 10), phase: between(rng, 0, 2 * M.PI) };
  const noiseSeed = M.floor(rng.next() * 4294967296);
  return {
    pose,
    lighting,
    background,
    occluder: occludes ? occluder : null,
    clothing,
    blinks,
    gaze,
    talk: talks ? talk : null,
    noise: k.noise,
    noiseSeed,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Per-frame state

/** Face units -> pixels at frame t of n, on a size x size frame. */
export function poseAt(
  p: Pose,
  t: number,
  n: number,
  size: number,
): { scale: number; angle: number; tx: number; ty: number; yaw: number } {
  const f = n > 1 ? t / (n - 1) : 0;
  const w = M.sin((2 * M.PI * t) / p.sway.period + p.sway.phase);
  const w2 = M.cos((2 * M.PI * t) / (1.7 * p.sway.period) + p.sway.phase);
  return {
    scale: p.scale * (1 + p.drift.scale * f) * size,
    angle: p.roll + p.drift.roll * f + p.sway.roll * w,
    tx: (p.x + p.drift.x * f + p.sway.x * w) * size,
    ty: (p.y + p.drift.y * f + p.sway.y * w2) * size,
    yaw: p.yaw + p.drift.yaw * f + p.sway.yaw * w2,
  };
}

const BLINK = [0.45, 1, 0.7, 0.25];

/** Eye closure at frame t (0 open .. 1 closed). */
export function blinkAt(s: Scene, t: number): number {
  for (const b of s.blinks) if (t >= b && t < b + BLINK.length) return BLINK[t - b];
  return 0;
}

export function gazeAt(s: Scene, t: number): { x: number; y: number } {
  let g = s.gaze[0];
  for (const h of s.gaze) if (t >= h.from) g = h;
  return g;
}

export function talkAt(s: Scene, t: number): number {
  if (!s.talk) return 0;
  return s.talk.amp * M.max(0, M.sin((2 * M.PI * t) / s.talk.period + s.talk.phase));
}

// ---------------------------------------------------------------------------------------------------------------
// Drawing

/** The static background (a vertical gradient and clutter), as floats, drawn once per clip. */
export function renderBackground(bg: Background, size: number): Float32Array {
  const cv = new Canvas(size, size);
  cv.transform = { scale: size, angle: 0, tx: 0, ty: 0 };
  const [t, b] = [bg.top, bg.bottom];
  cv.fill(new RoundedRect(0.5, 0.5, 0.6, 0.6, 0), (_x, y, out) => {
    const f = clamp(y, 0, 1);
    out[0] = t[0] + (b[0] - t[0]) * f;
    out[1] = t[1] + (b[1] - t[1]) * f;
    out[2] = t[2] + (b[2] - t[2]) * f;
  });
  for (const it of bg.items) {
    let shape: Shape;
    if (it.kind === 'ellipse') shape = new Ellipse(it.x, it.y, it.w / 2, it.h / 2, it.angle);
    else if (it.kind === 'stripe') shape = new RoundedRect(it.x, it.y, 0.9, M.min(it.w, it.h) / 8, 0, it.angle);
    else shape = new RoundedRect(it.x, it.y, it.w / 2, it.h / 2, 0.01, it.angle);
    cv.fill(shape, it.colour, it.opacity, it.soft);
  }
  return cv.data;
}

/** The occluder, in face units (the canvas transform is the face's), at frame t of n. */
export function drawOccluder(cv: Canvas, o: Occluder, id: Identity, t: number, n: number): void {
  const f = n > 1 ? t / (n - 1) : 0;
  const x = o.x + o.driftX * f;
  const y = o.y + o.driftY * f;
  if (o.kind === 'hand') {
    const skin = scaleRgb(id.skin, 0.95);
    const c = M.cos(o.angle);
    const s = M.sin(o.angle);
    const r = o.size;
    cv.fill(new Ellipse(x, y, r, 0.8 * r, o.angle), skin);
    for (let i = 0; i < 4; i++) {
      // Fingers reach upwards from the palm, spread across its width.
      const off = (i - 1.5) * 0.42 * r;
      const len = r * (0.75 + 0.15 * (i === 1 || i === 2 ? 1 : 0));
      const bx = x + c * off + s * 0.5 * r;
      const by = y + s * off - c * 0.5 * r;
      const ex = bx + s * len;
      const ey = by - c * len;
      cv.fill(
        new Stroke(
          [
            [bx, by],
            [ex, ey],
          ],
          [0.17 * r, 0.14 * r],
        ),
        skin,
      );
      cv.fill(
        new Stroke(
          [
            [bx, by],
            [ex, ey],
          ],
          [0.17 * r, 0.14 * r],
        ),
        scaleRgb(skin, 0.75),
        0.25,
        0.02,
      );
    }
  } else if (o.kind === 'object') {
    const [r, g, b] = o.colour;
    const shade = (u: number, _v: number, out: Float32Array) => {
      // rounded: brighter along its axis, darker at the sides
      const d = (u - x) / o.size;
      const k = 1.15 - 0.5 * d * d;
      out[0] = r * k;
      out[1] = g * k;
      out[2] = b * k;
    };
    cv.fill(new RoundedRect(x, y, o.size, 2.6 * o.size, 0.6 * o.size, o.angle), shade);
    cv.fill(new Ellipse(x, y - 2.2 * o.size, 0.9 * o.size, 0.5 * o.size, o.angle), scaleRgb(o.colour, 1.3), 0.6, 0.02);
  } else {
    const pts = quadBezier([x - 0.1, -1.0], [x + 0.35 * M.sign(x), y], [x - 0.05, 0.45 + y], 10);
    cv.fill(
      new Stroke(
        pts,
        pts.map((_, i) => o.size * (1 - 0.6 * (i / 10))),
      ),
      id.hair,
    );
  }
}

/**
 * A camera's highlight roll-off (levels in, levels out): linear up to 190, then compressed towards 235, so bright
 * areas keep some texture instead of clipping to a flat white (which dfer prepare would take for damage).
 */
function knee(v: number): number {
  if (v <= 190) return v;
  const t = (v - 190) / 45;
  return 190 + (45 * t) / (1 + t); // a soft asymptote at 235
}

/**
 * Lighting, sensor noise and quantisation: the float canvas of frame t becomes 8-bit RGB. The noise comes from a
 * xorshift32 stream seeded by one draw of `noise` (the clip's noise stream) per frame, so a clip's bytes depend only
 * on its seed; xorshift rather than Rng because this loop draws ~100k numbers a frame.
 */
export function finishFrame(
  data: Float32Array,
  size: number,
  L: Lighting,
  t: number,
  sigma: number,
  noise: Rng,
): Uint8Array {
  const out = new Uint8Array(size * size * 3);
  const gx = M.cos(L.angle) * 2 * L.gradient;
  const gy = M.sin(L.angle) * 2 * L.gradient;
  const bright = L.brightness * (1 + L.flicker * M.sin((2 * M.PI * t) / L.flickerPeriod + L.flickerPhase));
  const [tr, tg, tb] = L.tint;
  const k = L.contrast;
  // Luminance noise shared by the channels (a sum of three 16-bit uniforms, nearly Gaussian, std sigma) plus chroma
  // noise of std sigma / 2 per channel (a uniform).
  const lum = (2 * sigma) / 65536; // (u1 + u2 + u3 - 1.5) has std 0.5
  const chroma = (0.5 * sigma * M.sqrt(12)) / 65536;
  let x = M.floor(noise.next() * 4294967296) | 1; // xorshift32 state, never 0
  for (let py = 0; py < size; py++) {
    const fy = (py + 0.5) / size - 0.5;
    for (let px = 0; px < size; px++) {
      const fx = (px + 0.5) / size - 0.5;
      const gain = 255 * bright * (1 + gx * fx + gy * fy);
      const i = (py * size + px) * 3;
      let nl = 0;
      let n0 = 0;
      let n1 = 0;
      let n2 = 0;
      if (sigma > 0) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        const a = x >>> 0;
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        const b = x >>> 0;
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        const c = x >>> 0;
        nl = ((a & 0xffff) + (a >>> 16) + (b & 0xffff) - 98304) * lum; // 98304 = 1.5 * 65536
        n0 = ((b >>> 16) - 32768) * chroma;
        n1 = ((c & 0xffff) - 32768) * chroma;
        n2 = ((c >>> 16) - 32768) * chroma;
      }
      // contrast about mid-grey, then gain and tint, then noise
      // (Uint8Array stores clamp nothing and truncate: round by +0.5 after clamping to [0, 255].)
      const r = knee(((data[i] - 0.5) * k + 0.5) * gain * tr) + nl + n0;
      const g = knee(((data[i + 1] - 0.5) * k + 0.5) * gain * tg) + nl + n1;
      const bl = knee(((data[i + 2] - 0.5) * k + 0.5) * gain * tb) + nl + n2;
      out[i] = r < 0 ? 0 : r > 255 ? 255 : r + 0.5;
      out[i + 1] = g < 0 ? 0 : g > 255 ? 255 : g + 0.5;
      out[i + 2] = bl < 0 ? 0 : bl > 255 ? 255 : bl + 0.5;
    }
  }
  return out;
}
