// Inference on clip tensors: logits, probabilities, predicted class and the clip feature, batch by batch.
import * as tf from '@tensorflow/tfjs-core';
import { forward, type Model } from './network.js';

export interface ClipPrediction {
  logits: number[];
  probabilities: number[];
  label: string;
  labelIndex: number;
  features: number[];
}

/** clips (N, T, 3, H, W) in [0, 1], evaluated in eval mode (running BN statistics) `batchSize` clips at a time. */
export async function predictClips(
  model: Model,
  clips: tf.Tensor5D,
  batchSize = 8,
  onBatch?: (done: number, total: number) => void,
): Promise<ClipPrediction[]> {
  const n = clips.shape[0];
  const results: ClipPrediction[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const outputs = tf.tidy(() => {
      const batch = tf.slice(clips, [start, 0, 0, 0, 0], [size, -1, -1, -1, -1]);
      const out = forward(model, batch, { training: false });
      return [out.logits, tf.softmax(out.logits), out.features];
    });
    let logits: number[][], probs: number[][], feats: number[][];
    try {
      [logits, probs, feats] = (await Promise.all(outputs.map((t) => t.array()))) as number[][][];
    } finally {
      tf.dispose(outputs);
    }
    for (let i = 0; i < size; i++) {
      const labelIndex = probs[i].indexOf(Math.max(...probs[i]));
      results.push({
        logits: logits[i],
        probabilities: probs[i],
        label: model.config.classes[labelIndex],
        labelIndex,
        features: feats[i],
      });
    }
    onBatch?.(start + size, n);
  }
  return results;
}
