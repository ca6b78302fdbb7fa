// The authors' golden batch (../shared/golden/official-gca-ial), read in place, and error measures for comparing to it.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, type TensorMap } from '../../src/model/safetensors.js';

const here = dirname(fileURLToPath(import.meta.url));
/** ../shared beside the repository (the CI layout), or DFER_SHARED. */
export const SHARED = process.env.DFER_SHARED ?? resolve(here, '..', '..', '..', 'shared');
export const GOLDEN_DIR = join(SHARED, 'golden', 'official-gca-ial');
export const GOLDEN_WEIGHTS = join(GOLDEN_DIR, 'weights.safetensors');
export const GOLDEN_CASE = join(GOLDEN_DIR, 'case1.safetensors');

if (!existsSync(GOLDEN_CASE))
  throw new Error(`golden files not found in ${GOLDEN_DIR}: set DFER_SHARED to the shared/ folder`);

let cache: { weights: TensorMap; batch: TensorMap } | undefined;
export function golden(): { weights: TensorMap; batch: TensorMap } {
  cache ??= { weights: readSafetensors(GOLDEN_WEIGHTS).tensors, batch: readSafetensors(GOLDEN_CASE).tensors };
  return cache;
}

export function goldenTensor(key: string): tf.Tensor {
  const t = golden().batch.get(key);
  if (!t) throw new Error(`golden batch has no ${key}`);
  return tf.tensor(Float32Array.from(t.data), t.shape);
}

/** The golden README's measure, shared with bench/gpu's check. */
export { relError } from '../../src/webgpu/census.js';
