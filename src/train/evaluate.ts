// Evaluation of a model on a split of a prepared set: test-mode sampling (middle of each segment), no augmentation,
// eval-mode BatchNorm; returns the metrics and each clip's prediction.
import * as tf from '@tensorflow/tfjs-core';
import { computeMetrics } from '../metrics/metrics.js';
import { loadBatches } from '../data/loader.js';
import type { SamplingSpec } from '../data/sampling.js';
import type { PreparedSet } from '../data/store.js';
import { forward, type Model } from '../model/network.js';
import { deriveShapes } from '../config.js';
import type { Metrics } from '../metrics/metrics.js';

export interface EvalOptions {
  sampling: SamplingSpec;
  batchSize: number;
  workers?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ClipResult {
  id: string;
  label: number;
  predicted: number;
  probabilities: number[];
}

/** Every clip's class probabilities (and, on request, its clip feature), in `ids` order. */
export interface SplitOutputs {
  ids: string[];
  labels: Int32Array;
  probabilities: Float32Array; // (N, classes)
  features?: Float32Array; // (N, temporalDim)
}

/** The one inference loop over a split: test-mode sampling, no augmentation, eval-mode BatchNorm. */
export async function forwardSplit(
  model: Model,
  set: PreparedSet,
  ids: string[],
  o: EvalOptions & { features?: boolean },
): Promise<SplitOutputs> {
  if (!ids.length) throw new Error('cannot evaluate an empty split');
  const k = model.config.numClasses;
  const dim = deriveShapes(model.config).temporalDim;
  const probabilities = new Float32Array(ids.length * k);
  const features = o.features ? new Float32Array(ids.length * dim) : undefined;
  const labels = new Int32Array(ids.length);
  let done = 0;
  for await (const batch of loadBatches({
    set,
    ids,
    mode: 'test',
    sampling: o.sampling,
    augment: null,
    size: model.config.imageSize,
    batchSize: o.batchSize,
    seed: 0,
    epoch: 0,
    dropLast: false,
    workers: o.workers,
  })) {
    // Read asynchronously: a GPU backend has no synchronous read, and its errors surface at the read.
    const outs = tf.tidy(() => {
      const out = forward(model, tf.tensor5d(batch.clips, batch.shape), { training: false, layout: 'BTHWC' });
      return features ? [tf.softmax(out.logits), out.features] : [tf.softmax(out.logits)];
    });
    let p: Float32Array, f: Float32Array | undefined;
    try {
      [p, f] = (await Promise.all(outs.map((t) => t.data()))) as Float32Array[];
    } finally {
      tf.dispose(outs);
    }
    probabilities.set(p, done * k);
    if (features && f) features.set(f, done * dim);
    labels.set(batch.labels, done);
    done += batch.ids.length;
    o.onProgress?.(done, ids.length);
  }
  return { ids: [...ids], labels, probabilities, ...(features ? { features } : {}) };
}

/** argmax of each row of a (N, K) array. */
export function argmaxRows(values: Float32Array, k: number): Int32Array {
  const out = new Int32Array(values.length / k);
  for (let i = 0; i < out.length; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (values[i * k + j] > values[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}

export async function evaluateSplit(
  model: Model,
  set: PreparedSet,
  ids: string[],
  o: EvalOptions,
): Promise<{ metrics: Metrics; clips: ClipResult[] }> {
  const k = model.config.numClasses;
  const out = await forwardSplit(model, set, ids, o);
  const predicted = argmaxRows(out.probabilities, k);
  const clips: ClipResult[] = out.ids.map((id, i) => ({
    id,
    label: out.labels[i],
    predicted: predicted[i],
    probabilities: Array.from(out.probabilities.subarray(i * k, (i + 1) * k)),
  }));
  // Recall by intensity leaves neutral clips out: a neutral face has no expression whose intensity could vary.
  const neutral = set.manifest.classes.indexOf('neutral');
  const intensity = out.ids.map((id, i) => (out.labels[i] === neutral ? undefined : set.clip(id).intensity));
  const metrics = computeMetrics(out.labels, predicted, k, intensity, neutral);
  return { metrics, clips };
}
