// Evaluation of a model on a split of a prepared set: test-mode sampling (middle of each segment), no augmentation,
// eval-mode BatchNorm; returns the metrics and each clip's prediction.
import * as tf from '@tensorflow/tfjs-core';
import { computeMetrics } from '../analysis/metrics.js';
import { loadBatches } from '../data/loader.js';
import type { SamplingSpec } from '../data/sampling.js';
import type { PreparedSet } from '../data/store.js';
import { forward, type Model } from '../model/network.js';
import type { Metrics } from './events.js';

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

export async function evaluateSplit(model: Model, set: PreparedSet, ids: string[], o: EvalOptions): Promise<{ metrics: Metrics; clips: ClipResult[] }> {
  if (!ids.length) throw new Error('cannot evaluate an empty split');
  const size = model.config.imageSize;
  const clips: ClipResult[] = [];
  for await (const batch of loadBatches({ set, ids, mode: 'test', sampling: o.sampling, augment: null, size, batchSize: o.batchSize, seed: 0, epoch: 0, dropLast: false, workers: o.workers })) {
    const probs = tf.tidy(() => {
      const x = tf.tensor5d(batch.clips, batch.shape);
      return tf.softmax(forward(model, x, { training: false, layout: 'BTHWC' }).logits).arraySync() as number[][];
    });
    probs.forEach((p, i) => clips.push({ id: batch.ids[i], label: batch.labels[i], predicted: p.indexOf(Math.max(...p)), probabilities: p }));
    o.onProgress?.(clips.length, ids.length);
  }
  const metrics = computeMetrics(
    clips.map((c) => c.label),
    clips.map((c) => c.predicted),
    model.config.numClasses,
    clips.map((c) => set.clip(c.id).intensity),
  );
  return { metrics, clips };
}
