// One clip, from its prepared file to model input: read the sampled frames, augment, write floats in [0, 1].
// Pure function of its job, so it runs the same in the main thread or in a loader worker.
import { renderFrame, type AugmentParams } from './augment.js';
import { readClipFrames } from './store.js';

export interface ClipJob {
  path: string; // clip file
  indices: number[]; // the T sampled frames
  augment: AugmentParams;
  size: number; // model input side
}

/** (T, size, size, 3) float32, HWC per frame. */
export async function renderClip(job: ClipJob): Promise<Float32Array> {
  const frames = await readClipFrames(job.path, job.indices);
  const per = job.size * job.size * 3;
  const out = new Float32Array(job.indices.length * per);
  frames.forEach((f, t) => renderFrame(f, job.augment, job.size, out, t * per));
  return out;
}
