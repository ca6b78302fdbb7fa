// `dfer sample`: which frames the dynamic sampler picks for a clip, and a contact sheet of them (optionally after the
// training augmentation), so a user can see exactly what the network is fed.
import { mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../random.js';
import { drawAugment, identityAugment, renderFrame, type AugmentParams } from './augment.js';
import { sampleFrameIndices, type SampleMode, type SamplingRule } from './sampling.js';
import { PreparedSet } from './store.js';

export interface SampleOptions {
  set: string; // prepared set directory
  clip: string;
  mode: SampleMode;
  u: number;
  v: number;
  rule: SamplingRule;
  seed: number;
  /** Write a contact sheet PNG of the sampled frames here. */
  sheet?: string;
  /** Show the frames after the training augmentation. */
  augment: boolean;
  /** Side of each sheet tile (default: the stored frame size). */
  tile?: number;
}

export interface SampleResult {
  clip: string;
  label: string;
  frames: number; // frames stored for the clip
  sourceFrames: number;
  mode: SampleMode;
  u: number;
  v: number;
  rule: SamplingRule;
  seed: number;
  indices: number[];
  augment?: AugmentParams;
  sheet?: string;
  /** Set when the official rule degenerates for this clip (all indices 0). */
  warning?: string;
}

export async function sampleClip(o: SampleOptions): Promise<SampleResult> {
  const set = PreparedSet.open(o.set);
  const clip = set.clip(o.clip);
  const rng = new Rng(o.seed);
  const indices = sampleFrameIndices(clip.frames, o.mode, { u: o.u, v: o.v, rule: o.rule }, rng);
  const side = set.manifest.settings.size;
  const augment = o.augment ? drawAugment(rng, side, side) : undefined;
  const degenerate = o.rule === 'official' && clip.frames > 1 && indices.every((i) => i === 0);
  const result: SampleResult = {
    clip: clip.id,
    label: set.manifest.classes[clip.label],
    frames: clip.frames,
    sourceFrames: clip.sourceFrames,
    mode: o.mode,
    u: o.u,
    v: o.v,
    rule: o.rule,
    seed: o.seed,
    indices,
    ...(augment ? { augment } : {}),
    ...(degenerate
      ? {
          warning: `the official rule samples frame 0 only for a ${clip.frames}-frame clip in ${o.mode} mode (n <= U + V - 1); --rule uniform spreads the samples`,
        }
      : {}),
  };
  if (o.sheet) {
    await writeContactSheet(set, clip.id, indices, augment ?? identityAugment(side, side), o.tile ?? side, o.sheet);
    result.sheet = o.sheet;
  }
  return result;
}

/** The sampled frames in a grid (up to 8 per row), in sampling order. */
async function writeContactSheet(
  set: PreparedSet,
  id: string,
  indices: number[],
  augment: AugmentParams,
  tile: number,
  file: string,
): Promise<void> {
  const frames = await set.readFrames(id, indices);
  const cols = Math.min(8, indices.length);
  const rows = Math.ceil(indices.length / cols);
  const pad = 2;
  const W = cols * (tile + pad) + pad;
  const H = rows * (tile + pad) + pad;
  const canvas = Buffer.alloc(W * H * 3, 32);
  const pixels = new Float32Array(tile * tile * 3);
  frames.forEach((f, k) => {
    renderFrame(f, augment, tile, pixels);
    const x0 = pad + (k % cols) * (tile + pad);
    const y0 = pad + Math.floor(k / cols) * (tile + pad);
    for (let y = 0; y < tile; y++) {
      for (let x = 0; x < tile * 3; x++)
        canvas[((y0 + y) * W + x0) * 3 + x] = Math.round(pixels[y * tile * 3 + x] * 255);
    }
  });
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}.png`;
  await sharp(canvas, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toFile(tmp);
  renameSync(tmp, file);
}
