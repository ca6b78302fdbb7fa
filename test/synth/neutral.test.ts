// Paper Eq. 8: an expression of intensity 0 is the neutral face, for every class.
import { DFEW_CLASSES } from '../../src/config.js';
import { renderClipFrames, type ClipSpec } from '../../src/synth/clip.js';
import { drawExpression } from '../../src/synth/face.js';
import { planDataset } from '../../src/synth/plan.js';
import { Rng } from '../../src/random.js';
import { DEFAULT_KNOBS } from '../../src/synth/scene.js';

// Every nuisance on (talking and an occluder in every clip), so only the expression can differ.
const knobs = { ...DEFAULT_KNOBS, occlusion: 1, talk: 1 };
const plan = planDataset({
  clips: 5,
  seed: 11,
  balanced: true,
  minFrames: 20,
  maxFrames: 20,
  intensityA: 1,
  intensityB: 1,
  minIntensity: 0.01,
  knobs,
});

function asClass(base: ClipSpec, classIndex: number, intensity: number): ClipSpec {
  return {
    ...base,
    classIndex,
    intensity,
    expression: drawExpression(new Rng(100 + classIndex), classIndex, DEFAULT_KNOBS.auJitter),
  };
}

test.each(plan.clips.slice(0, 3).map((c) => [c.id, c] as const))(
  'clip %s: at intensity 0 all 7 classes render the same bytes',
  (_id, base) => {
    const id = plan.identities[base.identity];
    const neutral = renderClipFrames(asClass(base, DFEW_CLASSES.indexOf('neutral'), 0), id, 40);
    for (let c = 0; c < DFEW_CLASSES.length; c++) {
      const frames = renderClipFrames(asClass(base, c, 0), id, 40);
      expect(frames).toHaveLength(neutral.length);
      frames.forEach((f, t) => expect(Buffer.from(f.data).equals(Buffer.from(neutral[t].data))).toBe(true));
    }
  },
);

test('above intensity 0 the expressions move the face, more with more intensity', () => {
  const base = plan.clips[0];
  const id = plan.identities[base.identity];
  const apex = Math.round((base.profile.apexStart + base.profile.apexEnd) / 2);
  const neutral = renderClipFrames(asClass(base, DFEW_CLASSES.indexOf('neutral'), 1), id, 48)[apex].data;
  const diff = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;
  for (const name of DFEW_CLASSES) {
    if (name === 'neutral') continue;
    const c = DFEW_CLASSES.indexOf(name);
    const weak = diff(renderClipFrames(asClass(base, c, 0.2), id, 48)[apex].data, neutral);
    const strong = diff(renderClipFrames(asClass(base, c, 1), id, 48)[apex].data, neutral);
    expect(weak).toBeGreaterThan(0);
    expect(strong).toBeGreaterThan(weak);
    // frame 0 is before the onset (neutral onset -> apex -> offset): still the neutral face
    const first = renderClipFrames(asClass(base, c, 1), id, 48)[0].data;
    const neutralFirst = renderClipFrames(asClass(base, DFEW_CLASSES.indexOf('neutral'), 1), id, 48)[0].data;
    expect(Buffer.from(first).equals(Buffer.from(neutralFirst))).toBe(true);
  }
});
