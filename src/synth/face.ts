// The face model of the synthetic benchmark: who the person is (identity), what the face does (FACS-like action
// units), how strongly (the clip's apex intensity) and when (the temporal profile).
//
// An expression is a vector of action-unit (AU) activations; a frame shows
//     AU(t) = intensity * e(t) * prototype_AU(class)          (plus class-independent nuisance: blinks, talking)
// with e(t) in [0, 1] the temporal profile. Every AU moves the face away from its neutral geometry in proportion to
// its activation, so at intensity 0 every class renders exactly the neutral face: the paper's Eq. 8 (an expression
// of intensity 0 is neutral), and the reason low-intensity clips are hard.
//
// Prototypes follow the EMFACS descriptions of the basic emotions, kept to what a 2-D face can show:
//   happiness  AU6 cheek raiser + AU12 lip corner puller (+ AU25 lips part: a toothy smile, half the clips)
//   sadness    AU1 inner brow raiser + AU4 brow lowerer + AU15 lip corner depressor + AU17 chin raiser + AU41 lid droop
//   anger      AU4 + AU5 upper lid raiser + AU7 lid tightener + AU24 lip pressor + AU17; a third of the clips shout
//              instead (AU10 upper lip raiser + AU25 + AU26 jaw drop): confusable with disgust
//   surprise   AU1 + AU2 outer brow raiser + AU5 + AU25 + AU26 (a tall, round mouth opening)
//   fear       AU1 + AU2 + AU4 (raised AND drawn together) + AU5 + AU7 + AU20 lip stretcher + AU25 + AU26 (smaller):
//              shares brows-up, eyes-wide and an open mouth with surprise
//   disgust    AU9 nose wrinkler + AU10 + AU4 + AU15 + AU17 + AU7: shares lowered brows and a raised upper lip with
//              (shouting) anger
//   neutral    no action unit
// Each clip scales every prototype weight by its own factor (1 + auJitter * N(0, 1), clamped to [0.3, 1.5]), so no
// two clips of a class move exactly alike.
import { DFEW_CLASSES } from '../config.js';
import type { Rng } from '../random.js';
import { between, clamp, pick, smoothstep } from './distributions.js';
import type { Rgb } from './raster.js';

export const ACTION_UNITS = [
  'AU1',
  'AU2',
  'AU4',
  'AU5',
  'AU6',
  'AU7',
  'AU9',
  'AU10',
  'AU12',
  'AU15',
  'AU17',
  'AU20',
  'AU24',
  'AU25',
  'AU26',
  'AU41',
] as const;
export type ActionUnit = (typeof ACTION_UNITS)[number];
/** Activation per action unit, 0 = neutral, ~1 = a full expression (a little above 1 for strong clips). */
export type ActionUnits = Record<ActionUnit, number>;

export type ClassName = (typeof DFEW_CLASSES)[number];

export const neutralAUs = (): ActionUnits => Object.fromEntries(ACTION_UNITS.map((a) => [a, 0])) as ActionUnits;

/** Prototype activations of each class; `alt` is the variant some clips use (with probability `altShare`). */
const PROTOTYPES: Record<ClassName, { base: Partial<ActionUnits>; alt?: Partial<ActionUnits>; altShare?: number }> = {
  happiness: { base: { AU6: 0.9, AU12: 1.0 }, alt: { AU6: 1.0, AU12: 1.0, AU25: 0.7, AU26: 0.15 }, altShare: 0.5 },
  sadness: { base: { AU1: 1.0, AU4: 0.5, AU15: 0.9, AU17: 0.5, AU41: 0.6 } },
  neutral: { base: {} },
  anger: {
    base: { AU4: 1.0, AU5: 0.4, AU7: 0.8, AU24: 0.9, AU17: 0.4 },
    alt: { AU4: 1.0, AU5: 0.5, AU7: 0.7, AU10: 0.6, AU25: 0.8, AU26: 0.45 },
    altShare: 0.3,
  },
  surprise: { base: { AU1: 1.0, AU2: 1.0, AU5: 0.9, AU25: 0.8, AU26: 0.9 } },
  disgust: { base: { AU9: 1.0, AU10: 0.9, AU4: 0.5, AU15: 0.4, AU17: 0.4, AU7: 0.3 } },
  fear: { base: { AU1: 0.9, AU2: 0.6, AU4: 0.6, AU5: 1.0, AU7: 0.2, AU20: 1.0, AU25: 0.8, AU26: 0.4 } },
};

/**
 * A clip's expression at intensity 1: the class prototype (or its variant) with per-clip weights. Always makes the
 * same number of draws whatever the class, so a clip's other parameters do not depend on its class.
 */
export function drawExpression(
  rng: Rng,
  classIndex: number,
  auJitter: number,
): { aus: ActionUnits; variant: 'base' | 'alt' } {
  const proto = PROTOTYPES[DFEW_CLASSES[classIndex]];
  const useAlt = rng.next() < (proto.altShare ?? 0);
  const chosen = useAlt && proto.alt ? proto.alt : proto.base;
  const aus = neutralAUs();
  for (const au of ACTION_UNITS) {
    const factor = clamp(1 + auJitter * rng.normal(), 0.3, 1.5);
    aus[au] = (chosen[au] ?? 0) * factor;
  }
  return { aus, variant: useAlt && proto.alt ? 'alt' : 'base' };
}

/** AU(t) = k * aus: the expression scaled by intensity x profile. */
export function scaleAUs(aus: ActionUnits, k: number): ActionUnits {
  const out = neutralAUs();
  for (const au of ACTION_UNITS) out[au] = aus[au] * k;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Temporal profile: neutral onset -> apex -> partial offset

export interface TemporalProfile {
  /** Frame (0-based, fractional) where the expression starts to build. */
  onset: number;
  /** Frames where the apex is reached and left. */
  apexStart: number;
  apexEnd: number;
  /** Frame where the offset ends; from there the face holds `residual` of the apex. */
  offsetEnd: number;
  /** Share of the apex left after the offset (the expression relaxes, not fully back to neutral). */
  residual: number;
}

/**
 * Random timing for a clip of n frames: onset in the first 30%, a rise of 12-30%, an apex held for 15-40%, an
 * offset of 10-30% down to 30-80% of the apex. The apex is always reached inside the clip.
 */
export function drawProfile(rng: Rng, n: number): TemporalProfile {
  let onset = n * between(rng, 0, 0.3);
  const rise = n * between(rng, 0.12, 0.3);
  const hold = n * between(rng, 0.15, 0.4);
  const fall = n * between(rng, 0.1, 0.3);
  const residual = between(rng, 0.3, 0.8);
  // Keep the apex inside the clip: pull the onset earlier if the rise would end past 80% of it.
  onset = Math.max(0, Math.min(onset, 0.8 * (n - 1) - rise));
  const apexStart = Math.min(n - 1, onset + rise);
  const apexEnd = Math.min(n - 1, apexStart + hold);
  return { onset, apexStart, apexEnd, offsetEnd: apexEnd + fall, residual };
}

/** e(t) in [0, 1] at frame t (0-based). */
export function profileAt(p: TemporalProfile, t: number): number {
  if (t <= p.onset) return 0;
  if (t < p.apexStart) return smoothstep((t - p.onset) / (p.apexStart - p.onset));
  if (t <= p.apexEnd) return 1;
  return 1 - (1 - p.residual) * smoothstep((t - p.apexEnd) / (p.offsetEnd - p.apexEnd));
}

/** The frame (0-based) in the middle of the apex. */
export const apexFrame = (p: TemporalProfile) => Math.round((p.apexStart + p.apexEnd) / 2);

// ---------------------------------------------------------------------------------------------------------------
// Identity: the neutral face of one person

export const HAIR_STYLES = ['short', 'long', 'bangs', 'curly', 'bald'] as const;
export type HairStyle = (typeof HAIR_STYLES)[number];

export interface Identity {
  index: number;
  /** Face outline, in face units (half-width at the cheekbones = 1): half-heights above and below the centre. */
  top: number;
  bottom: number;
  /** How much the jaw narrows towards the chin (0 = an ellipse). */
  jaw: number;
  eyeY: number;
  eyeX: number; // half the distance between the eye centres
  eyeW: number; // half-width of an eye
  eyeH: number; // half-height of an open eye
  eyeTilt: number; // outer corners up (+) or down
  irisR: number;
  browGap: number; // brow height above the eye centre
  browLen: number;
  browThick: number;
  browArch: number;
  noseY: number; // nose tip
  noseW: number; // half-width of the nostrils
  mouthY: number;
  mouthW: number; // half-width of the mouth
  upperLip: number; // lip thicknesses
  lowerLip: number;
  skinTone: number; // 0 (light) .. 1 (dark)
  skin: Rgb;
  lips: Rgb;
  iris: Rgb;
  hair: Rgb;
  brows: Rgb;
  hairStyle: HairStyle;
  hairline: number; // y of the hairline at the centre
  glasses: boolean;
  glassesColour: Rgb;
}

const SKIN_TONES: Rgb[] = [
  [0.98, 0.85, 0.76],
  [0.94, 0.76, 0.63],
  [0.84, 0.63, 0.48],
  [0.68, 0.48, 0.34],
  [0.5, 0.33, 0.22],
  [0.34, 0.22, 0.15],
];
const HAIR_COLOURS: Rgb[] = [
  [0.07, 0.06, 0.05],
  [0.2, 0.13, 0.08],
  [0.38, 0.25, 0.14],
  [0.78, 0.66, 0.47],
  [0.5, 0.27, 0.19],
  [0.62, 0.61, 0.59],
];
const IRIS_COLOURS: Rgb[] = [
  [0.25, 0.15, 0.08],
  [0.12, 0.08, 0.05],
  [0.3, 0.45, 0.62],
  [0.3, 0.45, 0.3],
  [0.45, 0.35, 0.18],
];

function lerpPalette(palette: Rgb[], t: number): Rgb {
  const x = clamp(t, 0, 1) * (palette.length - 1);
  const i = Math.min(palette.length - 2, Math.floor(x));
  const f = x - i;
  const a = palette[i];
  const b = palette[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

const jitterRgb = (rng: Rng, c: Rgb, amount: number): Rgb => [
  clamp(c[0] * (1 + amount * rng.normal()), 0, 1),
  clamp(c[1] * (1 + amount * rng.normal()), 0, 1),
  clamp(c[2] * (1 + amount * rng.normal()), 0, 1),
];

/** A person: face shape and proportions, colours, hair and glasses. */
export function drawIdentity(rng: Rng, index: number): Identity {
  const skinTone = rng.next();
  const skin = jitterRgb(rng, lerpPalette(SKIN_TONES, skinTone), 0.03);
  const lipTint: Rgb = [0.72, 0.32, 0.32];
  const lipMix = between(rng, 0.3, 0.55);
  const lips: Rgb = [
    (skin[0] + (lipTint[0] - skin[0]) * lipMix) * 0.9,
    (skin[1] + (lipTint[1] - skin[1]) * lipMix) * 0.85,
    (skin[2] + (lipTint[2] - skin[2]) * lipMix) * 0.85,
  ];
  // Darker skin goes with darker hair and eyes more often, as in the populations the palettes stand for.
  const hairIndex =
    skinTone > 0.5 ? pick(rng, [0, 1, 2, 5], [6, 3, 1, 1]) : pick(rng, [0, 1, 2, 3, 4, 5], [2, 3, 3, 2, 1, 1]);
  const hair = jitterRgb(rng, HAIR_COLOURS[hairIndex], 0.08);
  const iris = skinTone > 0.5 ? IRIS_COLOURS[rng.int(2)] : IRIS_COLOURS[rng.int(IRIS_COLOURS.length)];
  const brows: Rgb =
    hairIndex === 3 || hairIndex === 5
      ? [hair[0] * 0.6, hair[1] * 0.6, hair[2] * 0.6]
      : [hair[0] * 0.85, hair[1] * 0.85, hair[2] * 0.85];
  const eyeH = between(rng, 0.08, 0.105);
  return {
    index,
    top: between(rng, 1.2, 1.38),
    bottom: between(rng, 1.12, 1.32),
    jaw: between(rng, 0.12, 0.38),
    eyeY: between(rng, -0.2, -0.08),
    eyeX: between(rng, 0.36, 0.44),
    eyeW: between(rng, 0.16, 0.21),
    eyeH,
    eyeTilt: between(rng, -0.02, 0.04),
    irisR: eyeH * between(rng, 0.95, 1.15),
    browGap: between(rng, 0.18, 0.25),
    browLen: between(rng, 0.3, 0.4),
    browThick: between(rng, 0.045, 0.07),
    browArch: between(rng, 0.0, 0.06),
    noseY: between(rng, 0.25, 0.36),
    noseW: between(rng, 0.1, 0.15),
    mouthY: between(rng, 0.6, 0.72),
    mouthW: between(rng, 0.24, 0.32),
    upperLip: between(rng, 0.035, 0.06),
    lowerLip: between(rng, 0.05, 0.08),
    skinTone,
    skin,
    lips,
    iris,
    hair,
    brows,
    hairStyle: pick(rng, HAIR_STYLES, [3, 3, 2, 1.5, 1]),
    hairline: between(rng, -0.95, -0.72),
    glasses: rng.next() < 0.15,
    glassesColour: pick(rng, [
      [0.08, 0.08, 0.08],
      [0.45, 0.3, 0.15],
      [0.7, 0.7, 0.72],
    ] as Rgb[]),
  };
}
