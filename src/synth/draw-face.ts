// Drawing one face: the identity's neutral geometry, moved by the frame's action units (face.ts), rasterised with
// raster.ts. The canvas transform places the face (pose); this file works in face units only: x to the right, y down,
// the origin at the centre of the face outline, the cheekbone half-width = 1.
//
// Each AU moves specific landmarks in proportion to its activation (the coefficients below are in face units per
// unit of activation); with every AU at 0 nothing moves, so a neutral frame is the same for every class.
// Head yaw is faked on a cylinder: inner features at x move to R sin(asin(x / R) + yaw), the nose (further out)
// moves more, the outline stays; small yaws look right, which is all the pose jitter asks for.
import type { ActionUnits, Identity } from './face.js';
import { clamp } from './distributions.js';
import {
  type Canvas,
  Ellipse,
  Implicit,
  Intersect,
  Outline,
  Polygon,
  RoundedRect,
  Stroke,
  quadBezier,
  scaleRgb,
  mix,
  type Rgb,
  type PaintFn,
} from './raster.js';

// Math through a module constant: a global lookup in a hot loop is slow where the global object is intercepted
// (Node vm contexts, e.g. jest: 30x slower per call).
const M = Math;

/** What changes from frame to frame. */
export interface FaceState {
  aus: ActionUnits;
  /** 0 open .. 1 closed (a blink; class-independent). */
  blink: number;
  /** Gaze direction, -1..1 in x and y (the iris moves inside the eye). */
  gazeX: number;
  gazeY: number;
  /** Head yaw in radians (small). */
  yaw: number;
}

/** What the clip decides about the face's surroundings. */
export interface FaceLook {
  clothing: Rgb;
  /** Direction and strength of the key light across the face (a shading gradient, face units). */
  lightX: number;
  lightY: number;
}

type Pt = [number, number];

const FACE_DEPTH = 1.15; // cylinder radius for the eyes, brows, mouth
const NOSE_DEPTH = 1.45; // the nose sticks out: it moves more with yaw

function yawWarp(yaw: number) {
  const at = (x: number, r: number) => r * M.sin(M.asin(clamp(x / r, -1, 1)) + yaw);
  return {
    p: (x: number, y: number, r = FACE_DEPTH): Pt => [at(x, r), y],
    /** Horizontal foreshortening at x (for widths of small parts). */
    squeeze: (x: number, r = FACE_DEPTH) => {
      const phi = M.asin(clamp(x / r, -1, 1));
      return M.max(0.2, M.cos(phi + yaw) / M.max(0.2, M.cos(phi)));
    },
  };
}

const darker = (c: Rgb, k: number) => scaleRgb(c, k);

export function drawFace(cv: Canvas, id: Identity, s: FaceState, look: FaceLook): void {
  const a = s.aus;
  const w = yawWarp(s.yaw);
  const skin = id.skin;
  const shadow = darker(skin, 0.62);
  const bottom = id.bottom + 0.12 * a.AU26; // the jaw drop lowers the chin

  // ---- body, hair behind the head, ears ----------------------------------------------------------------------
  cv.fill(new Ellipse(0, bottom + 1.55, 1.95, 0.8), fabricPaint(look.clothing));
  cv.fill(new RoundedRect(0, bottom + 0.35, 0.42, 0.6, 0.12), darker(skin, 0.78));
  if (id.hairStyle === 'long' || id.hairStyle === 'curly') {
    const wide = id.hairStyle === 'curly' ? 1.38 : 1.22;
    const hairPaint = shadedPaint(id.hair, 0.12, id.top);
    cv.fill(new Ellipse(0, -0.15, wide, id.top + 0.3), hairPaint);
    if (id.hairStyle === 'long') cv.fill(new RoundedRect(0, 0.55, 1.18, 0.95 + 0.1 * id.bottom, 0.35), hairPaint);
  }
  for (const side of [-1, 1]) {
    const [ex, ey] = w.p(side * 0.98, id.eyeY + 0.18, 1.0);
    cv.fill(new Ellipse(ex, ey, 0.11 * w.squeeze(side * 0.98, 1.0), 0.22), darker(skin, 0.9));
  }

  // ---- the face: an egg that narrows towards the chin, shaded by the key light -----------------------------------
  const top = id.top;
  const outline = new Implicit(
    (x, y) => {
      const t = y < 0 ? 0 : M.min(1.2, y / bottom);
      const hx = x / (1 - id.jaw * t * t);
      const hy = y / (y < 0 ? top : bottom);
      return M.sqrt(hx * hx + hy * hy) - 1;
    },
    [-1.05, -top - 0.05, 1.05, bottom + 0.05],
  );
  cv.fill(outline, facePaint(skin, look, top, bottom));

  // ---- brows (drawn before the hair so that bangs may cover them) ----------------------------------------------
  const browY = id.eyeY - id.browGap;
  const brows: { inner: Pt; outer: Pt }[] = [];
  for (const side of [-1, 1]) {
    const innerX = id.eyeX - 0.55 * id.browLen - 0.07 * a.AU4 - 0.02 * a.AU9;
    const outerX = id.eyeX + 0.5 * id.browLen;
    const innerY = browY - 0.15 * a.AU1 + 0.1 * a.AU4 + 0.04 * a.AU9;
    const outerY = browY + 0.02 - 0.13 * a.AU2 - 0.03 * a.AU1 + 0.05 * a.AU4;
    // The arch flattens when the brows are lowered and drawn together.
    const arch = M.max(0, id.browArch + 0.03 * a.AU2 - 0.03 * a.AU4);
    const inner = w.p(side * innerX, innerY);
    const outer = w.p(side * outerX, outerY);
    const ctrl = w.p(side * (innerX + 0.55 * (outerX - innerX)), M.min(innerY, outerY) - 2 * arch - 0.01);
    const pts = quadBezier(inner, ctrl, outer, 6);
    const half = pts.map((_, i) => id.browThick * (0.55 - 0.3 * (i / 6) ** 1.5));
    cv.fill(new Stroke(pts, half), id.brows, 0.95, 0.006);
    brows.push({ inner, outer });
  }
  // Forehead wrinkles (AU1 in the middle, AU2 at the sides) and the vertical lines between lowered brows (AU4).
  const foreheadLines = M.max(a.AU1, a.AU2);
  if (foreheadLines > 0) {
    for (let k = 0; k < 3; k++) {
      const y = browY - 0.17 - 0.075 * k;
      const bend = 0.03 * (a.AU2 - a.AU1);
      const pts = quadBezier(w.p(-0.42, y + bend), w.p(0, y - 2 * bend - 0.01), w.p(0.42, y + bend), 8);
      cv.fill(
        new Stroke(
          pts,
          pts.map((_, i) => 0.011 * M.sin((M.PI * (i + 0.5)) / 9)),
        ),
        shadow,
        0.7 * M.min(1, foreheadLines),
        0.012,
      );
    }
  }
  if (a.AU4 > 0) {
    for (const side of [-1, 1]) {
      const x = side * 0.045;
      cv.fill(
        new Stroke([w.p(x, browY + 0.03), w.p(x * 0.8, browY - 0.1)], [0.011, 0.006]),
        shadow,
        0.8 * M.min(1, a.AU4),
        0.01,
      );
    }
  }

  // ---- eyes ----------------------------------------------------------------------------------------------------
  const upperOpen = M.max(
    0,
    id.eyeH * (1 + 0.8 * a.AU5 - 0.45 * a.AU7 - 0.25 * a.AU6 - 0.45 * a.AU41 - 0.15 * a.AU9) * (1 - s.blink),
  );
  const lowerOpen = M.max(
    0,
    id.eyeH * 0.75 * (1 - 0.45 * a.AU6 - 0.4 * a.AU7 - 0.25 * a.AU9 + 0.15 * a.AU5) * (1 - 0.8 * s.blink),
  );
  for (const side of [-1, 1]) {
    const cx = side * id.eyeX;
    const cy = id.eyeY;
    const innerC = w.p(cx - side * id.eyeW, cy + 0.012);
    const outerC = w.p(cx + side * id.eyeW, cy - id.eyeTilt);
    const mid = w.p(cx - side * 0.1 * id.eyeW, cy);
    const upper = quadBezier(innerC, [mid[0], cy - 2 * upperOpen], outerC, 8);
    const lower = quadBezier(innerC, [mid[0], cy + 2 * lowerOpen], outerC, 8);
    const eyeShape = new Polygon([...upper, ...lower.slice(1, -1).reverse()]);
    const squeeze = w.squeeze(cx);
    if (upperOpen + lowerOpen > 1e-4) {
      cv.fill(eyeShape, [0.93, 0.91, 0.88]);
      const [ix, iy] = w.p(cx + s.gazeX * 0.4 * id.eyeW, cy + s.gazeY * 0.3 * id.eyeH);
      cv.fill(new Intersect(new Ellipse(ix, iy, id.irisR * squeeze, id.irisR), eyeShape), id.iris);
      cv.fill(
        new Intersect(new Ellipse(ix, iy, 0.45 * id.irisR * squeeze, 0.45 * id.irisR), eyeShape),
        [0.03, 0.03, 0.03],
      );
      cv.fill(
        new Intersect(new Ellipse(ix - 0.3 * id.irisR, iy - 0.35 * id.irisR, 0.2 * id.irisR, 0.2 * id.irisR), eyeShape),
        [1, 1, 1],
        0.85,
      );
    }
    // Upper lid with lashes, a faint lower lid, and the lid crease above.
    cv.fill(
      new Stroke(
        upper,
        upper.map((_, i) => 0.012 + 0.01 * M.sin((M.PI * i) / 8)),
      ),
      [0.09, 0.06, 0.05],
      0.95,
    );
    cv.fill(
      new Stroke(
        lower,
        lower.map(() => 0.008),
      ),
      darker(skin, 0.55),
      0.45,
    );
    const crease = quadBezier(
      w.p(cx - side * 0.8 * id.eyeW, cy - 0.02),
      [mid[0], cy - 2 * upperOpen - 0.09 - 0.03 * a.AU5],
      w.p(cx + side * 0.9 * id.eyeW, cy - id.eyeTilt - 0.03),
      5,
    );
    cv.fill(
      new Stroke(
        crease,
        crease.map(() => 0.009),
      ),
      shadow,
      0.3,
      0.01,
    );
    // Cheek raise (AU6) and lid tightening (AU7) bunch the skin under the eye; AU6 adds crow's feet.
    const bunch = M.min(1, a.AU6 + 0.5 * a.AU7 + 0.4 * a.AU9);
    if (bunch > 0) {
      const under = quadBezier(
        w.p(cx - side * 0.8 * id.eyeW, cy + 0.06),
        [mid[0], cy + 2 * lowerOpen + 0.08],
        w.p(cx + side * 0.9 * id.eyeW, cy + 0.04),
        5,
      );
      cv.fill(
        new Stroke(
          under,
          under.map(() => 0.01),
        ),
        shadow,
        0.45 * bunch,
        0.012,
      );
    }
    if (a.AU6 > 0) {
      for (let k = -1; k <= 1; k++) {
        const o = w.p(cx + side * (id.eyeW + 0.04), cy + 0.035 * k);
        const e = w.p(cx + side * (id.eyeW + 0.13), cy + 0.07 * k - 0.01);
        cv.fill(new Stroke([o, e], [0.009, 0.004]), shadow, 0.5 * M.min(1, a.AU6), 0.008);
      }
    }
  }

  // ---- cheeks ----------------------------------------------------------------------------------------------------
  if (a.AU6 > 0) {
    for (const side of [-1, 1]) {
      const [x, y] = w.p(side * 0.55, id.noseY - 0.02 - 0.07 * a.AU6);
      cv.fill(new Ellipse(x, y, 0.2, 0.12), mix(skin, [1, 0.85, 0.8], 0.25), 0.35 * M.min(1, a.AU6), 0.12);
    }
  }

  // ---- nose -------------------------------------------------------------------------------------------------------
  const noseLift = 0.03 * a.AU9 + 0.01 * a.AU10;
  const tip = w.p(0, id.noseY - noseLift, NOSE_DEPTH);
  const lightSide = look.lightX >= 0 ? -1 : 1; // the bridge's shadow falls away from the light
  cv.fill(
    new Stroke(
      [w.p(lightSide * 0.07, id.eyeY + 0.04), w.p(lightSide * 0.08, id.noseY - 0.1, NOSE_DEPTH)],
      [0.02, 0.03],
    ),
    shadow,
    0.18,
    0.04,
  );
  cv.fill(new Ellipse(tip[0], tip[1] - 0.02, 0.075, 0.06), mix(skin, [1, 1, 1], 0.12), 0.5, 0.05);
  for (const side of [-1, 1]) {
    const flare = 1 + 0.3 * a.AU9;
    const [nx, ny] = w.p(side * id.noseW * 0.55 * flare, id.noseY + 0.035 - noseLift, NOSE_DEPTH);
    cv.fill(
      new Ellipse(nx, ny, 0.038 * flare * w.squeeze(side * id.noseW, NOSE_DEPTH), 0.021, side * 0.35),
      darker(skin, 0.32),
    );
    const wing = quadBezier(
      w.p(side * id.noseW * 0.8 * flare, id.noseY - 0.07 - noseLift, NOSE_DEPTH),
      w.p(side * id.noseW * 1.25 * flare, id.noseY - noseLift, NOSE_DEPTH),
      w.p(side * id.noseW * 0.75 * flare, id.noseY + 0.05 - noseLift, NOSE_DEPTH),
      6,
    );
    cv.fill(
      new Stroke(
        wing,
        wing.map(() => 0.01),
      ),
      shadow,
      0.5,
      0.008,
    );
  }
  // The nose wrinkle (AU9): creases across the bridge.
  if (a.AU9 > 0) {
    for (let k = 0; k < 3; k++) {
      const y = id.eyeY + 0.09 + 0.045 * k;
      const pts = quadBezier(
        w.p(-0.085, y + 0.01, NOSE_DEPTH),
        w.p(0, y - 0.02, NOSE_DEPTH),
        w.p(0.085, y + 0.01, NOSE_DEPTH),
        6,
      );
      cv.fill(
        new Stroke(
          pts,
          pts.map(() => 0.009),
        ),
        shadow,
        0.85 * M.min(1, a.AU9),
        0.008,
      );
    }
  }

  // ---- mouth ------------------------------------------------------------------------------------------------------
  const mw =
    id.mouthW *
    (1 + 0.2 * a.AU12 + 0.35 * a.AU20 - 0.14 * a.AU24 - 0.12 * a.AU26 * clamp(1 - a.AU20, 0, 1) - 0.05 * a.AU10);
  const cornerDy = -0.16 * a.AU12 + 0.11 * a.AU15 + 0.025 * a.AU20 - 0.02 * a.AU10;
  const mouthY = id.mouthY - 0.02 * a.AU17 + 0.02 * a.AU26;
  const gapTop = 0.06 * a.AU10 + 0.015 * a.AU25 + 0.025 * a.AU26;
  const gapBot = 0.03 * a.AU25 + 0.22 * a.AU26;
  const roundness = 0.6 - 0.4 * M.min(1, a.AU20); // AU20 squares the opening off (fear), AU26 alone is round
  const up = id.upperLip * M.max(0.25, 1 - 0.55 * a.AU24 - 0.3 * a.AU20 - 0.2 * a.AU12 + 0.1 * a.AU10);
  const lo = id.lowerLip * M.max(0.25, 1 - 0.5 * a.AU24 - 0.3 * a.AU20 - 0.15 * a.AU12 + 0.2 * a.AU17);
  const N = 12;
  const curve = (f: (s: number) => number): Pt[] =>
    Array.from({ length: N + 1 }, (_, i) => {
      const s = -1 + (2 * i) / N;
      return w.p(s * mw, f(s));
    });
  const base = (s: number) => mouthY + cornerDy * s * s;
  const open = (s: number) => M.pow(M.max(0, 1 - s * s), roundness);
  // AU10 lifts the upper lip most just beside the middle (a snarl), AU25/26 open the mouth from the centre.
  const innerTop = (s: number) =>
    base(s) - gapTop * open(s) * (1 + 0.3 * a.AU10 * M.exp(-(((M.abs(s) - 0.35) / 0.25) ** 2)));
  const innerBot = (s: number) => base(s) + gapBot * open(s);
  const bow = (s: number) => 1 - 0.3 * M.exp(-((s / 0.16) ** 2)); // the dip of the Cupid's bow
  const outerTop = (s: number) => innerTop(s) - up * M.pow(M.max(0, 1 - s * s), 0.4) * bow(s);
  const outerBot = (s: number) => innerBot(s) + lo * M.pow(M.max(0, 1 - s * s), 0.5);
  // Nasolabial folds deepen with the smile (AU12), the upper-lip raise (AU10) and the nose wrinkle (AU9).
  const fold = M.min(1, a.AU12 + 0.8 * a.AU10 + 0.6 * a.AU9 + 0.3 * a.AU6);
  for (const side of [-1, 1]) {
    const pts = quadBezier(
      w.p(side * (id.noseW + 0.06), id.noseY - 0.03),
      w.p(side * (id.noseW + 0.17 + 0.05 * fold), (id.noseY + mouthY) / 2),
      w.p(side * (mw + 0.09), base(1) + 0.03),
      8,
    );
    cv.fill(
      new Stroke(
        pts,
        pts.map((_, i) => 0.007 + 0.008 * M.sin((M.PI * i) / 8)),
      ),
      shadow,
      0.07 + 0.6 * fold,
      0.02,
    );
  }
  const upperOuter = curve(outerTop);
  const lowerOuter = curve(outerBot);
  const upperInner = curve(innerTop);
  const lowerInner = curve(innerBot);
  cv.fill(new Polygon([...upperOuter, ...lowerOuter.slice(1, -1).reverse()]), id.lips);
  cv.fill(new Polygon([...upperOuter, ...upperInner.slice(1, -1).reverse()]), darker(id.lips, 0.86));
  if (gapTop + gapBot > 1e-4) {
    const cavity = new Polygon([...upperInner, ...lowerInner.slice(1, -1).reverse()]);
    cv.fill(cavity, [0.22, 0.07, 0.07]);
    const teethTop = curve((s) => innerTop(s) + 0.05);
    cv.fill(new Intersect(new Polygon([...upperInner, ...teethTop.slice(1, -1).reverse()]), cavity), [0.92, 0.9, 0.84]);
    const teethBot = curve((s) => innerBot(s) - 0.03);
    cv.fill(
      new Intersect(new Polygon([...lowerInner, ...teethBot.slice(1, -1).reverse()]), cavity),
      [0.8, 0.78, 0.72],
      0.8,
    );
  }
  cv.fill(
    new Stroke(
      upperInner,
      upperInner.map(() => 0.011),
    ),
    darker(id.lips, 0.45),
    0.85,
  );
  for (const side of [-1, 1]) {
    const [x, y] = w.p(side * (mw + 0.015), base(1));
    cv.fill(new Ellipse(x, y, 0.025, 0.02), shadow, 0.35 + 0.25 * M.min(1, a.AU12 + a.AU15), 0.02);
  }
  // The chin raiser (AU17) pushes the lower lip up and creases the chin below it.
  if (a.AU17 > 0) {
    const y = outerBot(0) + 0.07;
    const pts = quadBezier(w.p(-0.13, y + 0.02), w.p(0, y - 0.03), w.p(0.13, y + 0.02), 6);
    cv.fill(
      new Stroke(
        pts,
        pts.map(() => 0.012),
      ),
      shadow,
      0.5 * M.min(1, a.AU17),
      0.015,
    );
  }

  // ---- hair on top of the head ---------------------------------------------------------------------------------
  if (id.hairStyle !== 'bald') {
    const bangs = id.hairStyle === 'bangs';
    const hl = bangs ? browY - 0.2 : id.hairline;
    const bumpy = id.hairStyle === 'curly' ? 0.05 : 0;
    const ry = top + 0.14;
    const cap = new Implicit(
      (x, y) => {
        const r = bumpy ? 1 + bumpy * M.sin(9 * M.atan2(y, x)) : 1;
        const hx = x / (1.08 * r);
        const hy = (y + 0.03) / (ry * r);
        const head = M.sqrt(hx * hx + hy * hy) - 1;
        // Below the hairline y = line(x): the vertical gap over sqrt(1 + slope^2) is about the distance to it.
        const x3 = x * x * x;
        const line = bangs ? hl + 0.25 * x3 * x + 0.015 * M.sin(25 * x) : hl + 0.9 * x3 * x;
        const slope = bangs ? x3 + 0.375 * M.cos(25 * x) : 3.6 * x3;
        return M.max(head, (y - line) / M.sqrt(1 + slope * slope));
      },
      [-1.2, -top - 0.3, 1.2, 0.3],
    );
    cv.fill(cap, shadedPaint(id.hair, 0.15, top));
  }

  // ---- glasses -------------------------------------------------------------------------------------------------
  if (id.glasses) {
    for (const side of [-1, 1]) {
      const [x, y] = w.p(side * id.eyeX, id.eyeY + 0.015);
      const lens = new RoundedRect(x, y, (id.eyeW + 0.08) * w.squeeze(side * id.eyeX), id.eyeH + 0.09, 0.07);
      cv.fill(lens, [0.9, 0.95, 1], 0.08);
      cv.fill(new Outline(lens, 0.014), id.glassesColour);
    }
    const bridgeL = w.p(-(id.eyeX - id.eyeW - 0.08), id.eyeY - 0.01);
    const bridgeR = w.p(id.eyeX - id.eyeW - 0.08, id.eyeY - 0.01);
    cv.fill(
      new Stroke([bridgeL, w.p(0, id.eyeY - 0.04, NOSE_DEPTH), bridgeR], [0.012, 0.012, 0.012]),
      id.glassesColour,
    );
  }
}

/** Skin: darker towards the outline (a rounded face), brighter towards the key light. */
function facePaint(skin: Rgb, look: FaceLook, top: number, bottom: number): PaintFn {
  const [r, g, b] = skin;
  return (x, y, out) => {
    const yy = y / (y < 0 ? top : bottom);
    const r2 = x * x + yy * yy;
    const k = (1 - 0.2 * r2 * r2) * (1 + look.lightX * x + look.lightY * yy);
    out[0] = r * k;
    out[1] = g * k;
    out[2] = b * k;
  };
}

/** A triangle wave of period 1 in [-1, 1]: a cheap sine for textures (paints run once per pixel). */
const tri = (t: number) => 4 * M.abs(t - M.floor(t) - 0.5) - 1;

/**
 * Hair: a little lighter on top, with fine strands. The texture matters beyond looks: large flat areas of a saturated
 * colour are what dfer prepare's damaged-frame check looks for, and real hair is never flat.
 */
function shadedPaint(c: Rgb, amount: number, top: number): PaintFn {
  const [r, g, b] = c;
  return (x, y, out) => {
    const k = (1 + amount * clamp(-y / top, -1, 1)) * (1 + 0.12 * tri(9 * x + 1.5 * y * y));
    out[0] = r * k;
    out[1] = g * k;
    out[2] = b * k;
  };
}

/** Clothing: soft vertical folds (not a flat colour either). */
function fabricPaint(c: Rgb): PaintFn {
  const [r, g, b] = c;
  return (x, y, out) => {
    const k = 1 + 0.1 * tri(2.2 * x + 0.3 * y) * tri(0.8 * x - 0.5 * y);
    out[0] = r * k;
    out[1] = g * k;
    out[2] = b * k;
  };
}
