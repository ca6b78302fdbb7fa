// One optimisation step: forward in training mode, the paper's loss, backward, SGD. Nothing leaks: every tensor made
// here is disposed before returning, so numTensors stays flat across steps. The loss parts are read asynchronously:
// a GPU backend cannot read synchronously, and the read is where its errors surface.
import * as tf from '@tensorflow/tfjs-core';
import { totalLoss, type LossOptions } from '../model/losses.js';
import { forward, type Model } from '../model/network.js';
import type { Sgd } from './optim.js';

export interface StepLosses {
  total: number;
  ce: number;
  ial: number;
  aux: number;
}

/** clips in [0, 1], (B, T, 3, H, W) or with layout BTHWC (B, T, H, W, 3); labels (B) class indices.
 * Returns the loss parts before the update. */
export async function trainStep(
  model: Model,
  optimizer: Sgd,
  clips: tf.Tensor5D,
  labels: tf.Tensor1D,
  lr: number,
  loss: LossOptions,
  layout: 'BTCHW' | 'BTHWC' = 'BTCHW',
): Promise<StepLosses> {
  const parts: tf.Scalar[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const out = forward(model, clips, { training: true, layout });
    const l = totalLoss(out, labels, model.config, loss);
    parts.push(...[l.ce, l.ial, l.aux].map((t) => tf.keep(t)));
    return l.total;
  }, model.params.trainable());
  const byName = new Map(Object.entries(grads).map(([k, g]) => [model.params.nameOf(k), g]));
  optimizer.step(model.params.vars, byName, lr);
  try {
    const [total, ce, ial, aux] = (await Promise.all([value, ...parts].map((t) => t.data()))).map((v) => v[0]);
    return { total, ce, ial, aux };
  } finally {
    tf.dispose([value, ...Object.values(grads), ...parts]);
  }
}
