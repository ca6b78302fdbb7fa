// Damaged-frame detection: frames a decoder returns "successfully" that carry corruption (blocks of solid colour,
// torn or displaced strips, stray lines, speckle), so that `dfer prepare` can drop or report them.
//
// Two tests, calibrated on the shared fixtures Megamind.avi (clean) and Megamind_bugy.avi (OpenCV's deliberately
// damaged copy: about one frame in five up to frame 120 carries a white or green rectangle, a line, a torn strip, a
// shifted picture or speckle):
//
// 1. Flat colour (one frame on its own): the frame is cut into a 16 x 16 grid of blocks (at least 4 px each); a block
//    is flat if every channel stays within FLAT_TOLERANCE over it. Flat blocks of a conspicuous colour (saturated,
//    or near white: not the dark, grey or skin-toned flat areas of real footage, and not black letterbox bars) are
//    grouped by colour (5 bits per channel, neighbouring bins merged), and the largest group's share of the frame is
//    flatColourFraction. It catches large solid blocks, including damage that persists over many frames.
// 2. Transient (a frame against its two neighbours): a pixel is transient if the previous and next frames agree there
//    while this frame differs from both by more than TRANSIENT_PIXEL_DIFF, even allowing one pixel of motion; only
//    pixels with at least 4 transient pixels among their 8 neighbours count (isolated dots are noise or motion edges).
//    The counted share of the frame is transientFraction. It catches damage of any colour or shape that lasts one
//    frame; real motion, scene cuts and fades do not trigger it (the neighbours then disagree), a one-frame flash does.
//    The first and last frames have one neighbour and get only the flat-colour test. Frames must be consecutive.
//
// Measured (decode at 64, 112 and 224 px): the clean video's largest flatColourFraction is 0.020 / 0.016 / 0.008 and
// its largest transientFraction 0.000 / 0.000 / 0.0009; the damaged one has 17 / 17 / 18 frames with transientFraction
// >= 0.004 (the strongest 0.36), all of them truly damaged, and 2 frames (a white and a green block) with
// flatColourFraction >= 0.19. The default thresholds (DEFAULT_FLAT_THRESHOLD, DEFAULT_TRANSIENT_THRESHOLD) sit between.
import type { Frame } from './images.js';

/** Per-channel spread (max - min) up to which a block counts as one flat colour. */
export const FLAT_TOLERANCE = 8;
/** A frame is damaged if one conspicuous flat colour covers at least this share of it. */
export const DEFAULT_FLAT_THRESHOLD = 0.1;
/** A frame is damaged if at least this share of it is transient (see above). */
export const DEFAULT_TRANSIENT_THRESHOLD = 0.004;
/** Largest per-channel difference for a pixel to count as changed, against each neighbour frame. */
export const TRANSIENT_PIXEL_DIFF = 48;

export type Rgb = [number, number, number];

export interface FlatColour {
  /** Share of the frame covered by flat blocks of this colour, 0..1. */
  fraction: number;
  /** Mean colour of those blocks ([0, 0, 0] when fraction is 0). */
  colour: Rgb;
}

export interface FrameDamageScore {
  index: number;
  flat: FlatColour;
  /** Share of the frame that is transient; 0 for the first and last frame. */
  transient: number;
  /** Mean colour of the transient pixels ([0, 0, 0] if none). */
  transientColour: Rgb;
}

export type DamageReason = 'flat-colour' | 'transient';

export interface DamagedFrame {
  index: number;
  /** The share of the frame that looks damaged: the larger of the measures that crossed their threshold. */
  fraction: number;
  /** The colour of the damage: the flat block colour, or else the mean colour of the transient pixels. */
  colour: Rgb;
  /** Which tests flagged the frame. */
  reasons: DamageReason[];
  flatFraction: number;
  transientFraction: number;
}

export interface DamageOptions {
  /** flatColourFraction at or above which a frame is damaged (default DEFAULT_FLAT_THRESHOLD). */
  flatThreshold?: number;
  /** transientFraction at or above which a frame is damaged (default DEFAULT_TRANSIENT_THRESHOLD). */
  transientThreshold?: number;
}

function checkFrame(f: Frame, what: string): void {
  if (!(f.width > 0 && f.height > 0) || f.data.length !== f.width * f.height * 3) {
    throw new RangeError(`${what}: ${f.data.length} bytes for a ${f.width}x${f.height} RGB frame`);
  }
}

/** Colours real footage rarely fills a flat area with: saturated and not dark, or near white. */
function conspicuous(r: number, g: number, b: number): boolean {
  const hi = Math.max(r, g, b);
  const lo = Math.min(r, g, b);
  return (hi >= 128 && hi - lo >= 96) || lo >= 230;
}

/** The side of the blocks flatColour cuts a frame into: a 16 x 16 grid, blocks of at least 4 px. */
export function flatBlockSize(frame: Frame): number {
  return Math.max(4, Math.floor(Math.min(frame.width, frame.height) / 16));
}

/** The largest conspicuous flat colour of a frame and its share (see the top of this file). */
export function flatColour(frame: Frame): FlatColour {
  checkFrame(frame, 'flatColour');
  const { width: w, height: h, data: d } = frame;
  const B = flatBlockSize(frame);
  if (B > w || B > h) return { fraction: 0, colour: [0, 0, 0] };
  // per 5-bit colour bin: number of flat blocks and the sum of their mean colours
  const bins = new Map<number, { n: number; r: number; g: number; b: number }>();
  for (let by = 0; by + B <= h; by += B) {
    for (let bx = 0; bx + B <= w; bx += B) {
      let r0 = 255,
        g0 = 255,
        b0 = 255,
        r1 = 0,
        g1 = 0,
        b1 = 0,
        rs = 0,
        gs = 0,
        bs = 0;
      let flat = true;
      for (let y = by; y < by + B && flat; y++) {
        let p = (y * w + bx) * 3;
        for (let x = 0; x < B; x++, p += 3) {
          const r = d[p],
            g = d[p + 1],
            b = d[p + 2];
          if (r < r0) r0 = r;
          if (r > r1) r1 = r;
          if (g < g0) g0 = g;
          if (g > g1) g1 = g;
          if (b < b0) b0 = b;
          if (b > b1) b1 = b;
          rs += r;
          gs += g;
          bs += b;
        }
        if (r1 - r0 > FLAT_TOLERANCE || g1 - g0 > FLAT_TOLERANCE || b1 - b0 > FLAT_TOLERANCE) flat = false;
      }
      if (!flat) continue;
      const n = B * B;
      const r = rs / n,
        g = gs / n,
        b = bs / n;
      if (!conspicuous(r, g, b)) continue;
      const key = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
      const bin = bins.get(key);
      if (bin) {
        bin.n++;
        bin.r += r;
        bin.g += g;
        bin.b += b;
      } else bins.set(key, { n: 1, r, g, b });
    }
  }
  // a colour and its neighbouring bins (a flat colour near a bin edge splits across two)
  let best = { n: 0, r: 0, g: 0, b: 0 };
  for (const key of bins.keys()) {
    const kr = key >> 10,
      kg = (key >> 5) & 31,
      kb = key & 31;
    const sum = { n: 0, r: 0, g: 0, b: 0 };
    for (let dr = -1; dr <= 1; dr++) {
      for (let dg = -1; dg <= 1; dg++) {
        for (let db = -1; db <= 1; db++) {
          const r = kr + dr,
            g = kg + dg,
            b = kb + db;
          if (r < 0 || r > 31 || g < 0 || g > 31 || b < 0 || b > 31) continue;
          const bin = bins.get((r << 10) | (g << 5) | b);
          if (!bin) continue;
          sum.n += bin.n;
          sum.r += bin.r;
          sum.g += bin.g;
          sum.b += bin.b;
        }
      }
    }
    if (sum.n > best.n) best = sum;
  }
  if (best.n === 0) return { fraction: 0, colour: [0, 0, 0] };
  return {
    fraction: (best.n * B * B) / (w * h),
    colour: [Math.round(best.r / best.n), Math.round(best.g / best.n), Math.round(best.b / best.n)],
  };
}

/** The share of a frame covered by its largest conspicuous flat colour, 0..1 (see flatColour). */
export function flatColourFraction(frame: Frame): number {
  return flatColour(frame).fraction;
}

// No Math.* in the per-pixel code: a global lookup per call is slow where globals are intercepted (jest's vm context).
function maxDiff(x: Uint8Array, i: number, y: Uint8Array, j: number): number {
  let a = x[i] - y[j];
  let b = x[i + 1] - y[j + 1];
  let c = x[i + 2] - y[j + 2];
  if (a < 0) a = -a;
  if (b < 0) b = -b;
  if (c < 0) c = -c;
  return a > b ? Math.max(a, c) : Math.max(b, c);
}

/** The transient share of `frame` between `prev` and `next` (same size), and the mean colour of those pixels. */
export function transientDamage(prev: Frame, frame: Frame, next: Frame): { fraction: number; colour: Rgb } {
  checkFrame(frame, 'transientDamage');
  const { width: w, height: h } = frame;
  for (const f of [prev, next]) {
    checkFrame(f, 'transientDamage');
    if (f.width !== w || f.height !== h)
      throw new RangeError(`transientDamage: frames of different sizes (${f.width}x${f.height}, ${w}x${h})`);
  }
  const a = prev.data,
    b = frame.data,
    c = next.data;
  const t = TRANSIENT_PIXEL_DIFF;
  const mask = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const i = p * 3;
      if (maxDiff(a, i, c, i) >= t / 2) continue; // the neighbours disagree: motion, a cut, a fade
      if (maxDiff(b, i, a, i) <= t || maxDiff(b, i, c, i) <= t) continue;
      let changed = true;
      for (let dy = -1; dy <= 1 && changed; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w || (dx === 0 && dy === 0)) continue;
          const j = (yy * w + xx) * 3;
          if (maxDiff(b, i, a, j) <= t || maxDiff(b, i, c, j) <= t) {
            changed = false; // matched one pixel away in a neighbour: motion
            break;
          }
        }
      }
      if (changed) mask[p] = 1;
    }
  }
  let count = 0,
    rs = 0,
    gs = 0,
    bs = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (!mask[p]) continue;
      let around = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < w) around += mask[yy * w + xx];
        }
      }
      if (around < 5) continue; // itself and at least 4 of its 8 neighbours
      count++;
      rs += b[p * 3];
      gs += b[p * 3 + 1];
      bs += b[p * 3 + 2];
    }
  }
  if (count === 0) return { fraction: 0, colour: [0, 0, 0] };
  return {
    fraction: count / (w * h),
    colour: [Math.round(rs / count), Math.round(gs / count), Math.round(bs / count)],
  };
}

/** transientDamage's share alone. */
export function transientFraction(prev: Frame, frame: Frame, next: Frame): number {
  return transientDamage(prev, frame, next).fraction;
}

function thresholds(opts: DamageOptions | number | undefined): Required<DamageOptions> {
  const o = typeof opts === 'number' ? { flatThreshold: opts } : (opts ?? {});
  const flatThreshold = o.flatThreshold ?? DEFAULT_FLAT_THRESHOLD;
  const transientThreshold = o.transientThreshold ?? DEFAULT_TRANSIENT_THRESHOLD;
  for (const [k, v] of [
    ['flatThreshold', flatThreshold],
    ['transientThreshold', transientThreshold],
  ] as const) {
    if (!(v > 0 && v <= 1)) throw new RangeError(`${k} must be in (0, 1], got ${v}`);
  }
  return { flatThreshold, transientThreshold };
}

/** Whether a score crosses the thresholds, as a DamagedFrame. */
function judge(s: FrameDamageScore, th: Required<DamageOptions>): DamagedFrame | null {
  const reasons: DamageReason[] = [];
  if (s.flat.fraction >= th.flatThreshold) reasons.push('flat-colour');
  if (s.transient >= th.transientThreshold) reasons.push('transient');
  if (reasons.length === 0) return null;
  const flatHit = reasons.includes('flat-colour');
  return {
    index: s.index,
    fraction: Math.max(flatHit ? s.flat.fraction : 0, reasons.includes('transient') ? s.transient : 0),
    colour: flatHit ? s.flat.colour : s.transientColour,
    reasons,
    flatFraction: s.flat.fraction,
    transientFraction: s.transient,
  };
}

/**
 * Scores consecutive frames one at a time, holding only the last three (for decodeVideoFrames' stream). push()
 * returns the score of the frame before the one pushed (its next neighbour is known then); finish() returns the last.
 */
export class DamageScorer {
  private prev: Frame | null = null;
  private cur: Frame | null = null;
  private index = -1;

  push(frame: Frame): FrameDamageScore | null {
    checkFrame(frame, `frame ${this.index + 1}`);
    if (this.cur && (frame.width !== this.cur.width || frame.height !== this.cur.height)) {
      throw new RangeError(
        `frame ${this.index + 1} is ${frame.width}x${frame.height}, frame ${this.index} ${this.cur.width}x${this.cur.height}: frames must share a size`,
      );
    }
    const out = this.cur ? this.score(this.cur, this.prev, frame) : null;
    this.prev = this.cur;
    this.cur = frame;
    this.index++;
    return out;
  }

  finish(): FrameDamageScore | null {
    const out = this.cur ? this.score(this.cur, this.prev, null) : null;
    this.prev = this.cur = null;
    return out;
  }

  private score(frame: Frame, prev: Frame | null, next: Frame | null): FrameDamageScore {
    const t = prev && next ? transientDamage(prev, frame, next) : { fraction: 0, colour: [0, 0, 0] as Rgb };
    return { index: this.index, flat: flatColour(frame), transient: t.fraction, transientColour: t.colour };
  }
}

/** Scores of every frame of a sequence of consecutive, same-size frames. */
export function frameDamageScores(frames: Frame[]): FrameDamageScore[] {
  const scorer = new DamageScorer();
  const out: FrameDamageScore[] = [];
  for (const f of frames) {
    const s = scorer.push(f);
    if (s) out.push(s);
  }
  const last = scorer.finish();
  if (last) out.push(last);
  return out;
}

/**
 * The damaged frames of a sequence of consecutive, same-size frames (a decoded video), in order. `threshold` is
 * either a DamageOptions or a number, the flat-colour threshold alone.
 */
export function detectDamagedFrames(frames: Frame[], threshold?: number | DamageOptions): DamagedFrame[] {
  const th = thresholds(threshold);
  return frameDamageScores(frames)
    .map((s) => judge(s, th))
    .filter((d): d is DamagedFrame => d !== null);
}

/** A streaming detectDamagedFrames: push frames in order, get the damaged ones as soon as they are known. */
export class DamageDetector {
  private readonly scorer = new DamageScorer();
  private readonly th: Required<DamageOptions>;
  constructor(threshold?: number | DamageOptions) {
    this.th = thresholds(threshold);
  }
  push(frame: Frame): DamagedFrame | null {
    const s = this.scorer.push(frame);
    return s ? judge(s, this.th) : null;
  }
  finish(): DamagedFrame | null {
    const s = this.scorer.finish();
    return s ? judge(s, this.th) : null;
  }
}
