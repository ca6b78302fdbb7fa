// One synthetic clip: everything drawn for it (ClipSpec, plain data that crosses to worker threads), and its frames,
// a pure function of the spec, the identity and the frame size.
import type { Frame } from '../data/images.js';
import { Rng } from '../random.js';
import { drawFace } from './draw-face.js';
import { profileAt, scaleAUs, type ActionUnits, type Identity, type TemporalProfile } from './face.js';
import { Canvas } from './raster.js';
import { blinkAt, drawOccluder, finishFrame, gazeAt, poseAt, renderBackground, talkAt, type Scene } from './scene.js';

export interface ClipSpec {
  /** 0-based position in the dataset; the DFEW id is index + 1, 5 digits. */
  index: number;
  id: string;
  /** Index into DFEW_CLASSES; the DFEW label is classIndex + 1. */
  classIndex: number;
  /** The fold (1..5) whose test split holds this clip. */
  fold: number;
  identity: number;
  frames: number;
  /** Apex intensity in (0, 1]: the expression's strength at the top of its temporal profile. */
  intensity: number;
  /** The class prototype with this clip's weights, at intensity 1; `variant` names the prototype used. */
  expression: { aus: ActionUnits; variant: 'base' | 'alt' };
  profile: TemporalProfile;
  scene: Scene;
}

/** The action units of frame t: intensity x e(t) x expression, plus talking (class-independent). */
export function frameAUs(spec: ClipSpec, t: number): ActionUnits {
  const aus = scaleAUs(spec.expression.aus, spec.intensity * profileAt(spec.profile, t));
  const talk = talkAt(spec.scene, t);
  aus.AU25 += talk;
  aus.AU26 += 0.5 * talk;
  return aus;
}

/** Renders the clip's frames in order, handing each to `onFrame` as soon as it is ready (so encoding can overlap). */
export function renderClip(
  spec: ClipSpec,
  identity: Identity,
  size: number,
  onFrame: (frame: Frame, t: number) => void,
): void {
  if (spec.identity !== identity.index)
    throw new Error(`clip ${spec.id} belongs to identity ${spec.identity}, got ${identity.index}`);
  const n = spec.frames;
  const s = spec.scene;
  const background = renderBackground(s.background, size);
  const cv = new Canvas(size, size);
  const noise = new Rng(s.noiseSeed);
  const look = { clothing: s.clothing, lightX: s.lighting.faceX, lightY: s.lighting.faceY };
  for (let t = 0; t < n; t++) {
    cv.data.set(background);
    const pose = poseAt(s.pose, t, n, size);
    cv.transform = { scale: pose.scale, angle: pose.angle, tx: pose.tx, ty: pose.ty };
    const gaze = gazeAt(s, t);
    drawFace(
      cv,
      identity,
      { aus: frameAUs(spec, t), blink: blinkAt(s, t), gazeX: gaze.x, gazeY: gaze.y, yaw: pose.yaw },
      look,
    );
    if (s.occluder) drawOccluder(cv, s.occluder, identity, t, n);
    onFrame({ width: size, height: size, data: finishFrame(cv.data, size, s.lighting, t, s.noise, noise) }, t);
  }
}

/** All frames of a clip (tests, the baseline and contact sheets). */
export function renderClipFrames(spec: ClipSpec, identity: Identity, size: number): Frame[] {
  const frames: Frame[] = [];
  renderClip(spec, identity, size, (f) => frames.push(f));
  return frames;
}
