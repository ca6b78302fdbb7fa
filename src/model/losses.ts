// Losses of main.py: L = L_CE + L_aux + lambda * L_IA (paper Eq. 9-10).
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../config.js';
import type { ForwardOutput } from './network.js';

/** Mean cross-entropy of logits (B, K) against integer labels (B). */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const oneHot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), 1))) as tf.Scalar;
}

/**
 * Intensity-aware loss: -log(e^{x_t} / (e^{x_t} + e^{x_max})) = softplus(x_max - x_t), x_t the target logit and x_max
 * the largest non-target logit. The official code masks every other logit with -9999 (constants) and applies
 * cross-entropy, so gradients flow through x_t and x_max only; gathering x_max at its argmax does exactly that.
 */
export function intensityAwareLoss(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const k = logits.shape[1];
  const targetMask = tf.oneHot(tf.cast(labels, 'int32'), k);
  // Picking with constant one-hot masks: the gradient reaches exactly one logit each (x_t, and x_max at its argmax).
  const maxMask = tf.oneHot(tf.argMax(tf.sub(logits, tf.mul(targetMask, 9999)), 1), k);
  const xt = tf.sum(tf.mul(logits, targetMask), 1);
  const xmax = tf.sum(tf.mul(logits, maxMask), 1);
  return tf.mean(tf.softplus(tf.sub(xmax, xt))) as tf.Scalar;
}

export interface LossOptions {
  /** Weight lambda of the IAL (0.1 in the paper for DFEW). */
  lambda: number;
  /** Whether the IAL term is used at all (the --no-ial ablation). */
  ial: boolean;
}

export interface LossParts {
  total: tf.Scalar;
  ce: tf.Scalar;
  ial: tf.Scalar;
  aux: tf.Scalar;
}

/** All loss terms of one training step; `total` is what is differentiated. */
export function totalLoss(out: ForwardOutput, labels: tf.Tensor1D, config: ModelConfig, opts: LossOptions): LossParts {
  const ce = crossEntropy(out.logits, labels);
  const ial = intensityAwareLoss(out.logits, labels);
  let aux: tf.Scalar = tf.scalar(0);
  const heads: [tf.Tensor2D | null, number][] = [
    [out.aux2, config.auxWeights[0]],
    [out.aux3, config.auxWeights[1]],
  ];
  // A head weighted 0 stays in the graph, as in main.py: its weights get a zero gradient, so SGD still decays them.
  for (const [logits, weight] of heads) {
    if (logits) aux = tf.add(aux, tf.mul(crossEntropy(logits, labels), weight));
  }
  const total = tf.add(tf.add(ce, aux), opts.ial ? tf.mul(ial, opts.lambda) : 0) as tf.Scalar;
  return { total, ce, ial, aux };
}
