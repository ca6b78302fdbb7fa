// Channel attention in the layer2/layer3 BasicBlocks, behind one interface: none | SE | CBAM | GCA (paper Sec. 3.3).
// Each variant squeezes the block's feature map (B*T, H, W, C) to a descriptor Z (B*T, C), turns it into per-channel
// weights S and rescales the map. Z also feeds the auxiliary classifier (the official GCA's AUX_fc), for every variant.
import * as tf from '@tensorflow/tfjs-core';
import type { AttentionType } from '../config.js';
import { customOp, linear, relu } from './ops.js';
import type { ModuleBuilder, ParamStore } from './params.js';

export interface AttentionSpec {
  type: AttentionType;
  channels: number; // C
  spatial: number; // H = W of the feature map: the GCA kernel covers it whole
  reduction: number; // r
  aux: boolean;
  numClasses: number;
}

export function declareAttention(b: ModuleBuilder, prefix: string, a: AttentionSpec): void {
  if (a.type === 'none') return;
  if (a.type === 'gca') b.depthwise(`${prefix}.gc.0`, a.channels, a.spatial);
  // The excitation MLP C -> C/r -> C; the official GCA writes it as 1x1 convs fc1.0, fc2.0 (no bias).
  b.pointwise(`${prefix}.fc1.0`, a.channels, a.channels / a.reduction);
  b.pointwise(`${prefix}.fc2.0`, a.channels / a.reduction, a.channels);
  if (a.aux) {
    b.linear(`${prefix}.AUX_fc.0`, a.channels, 2 * a.channels, false);
    b.linear(`${prefix}.AUX_fc.1`, 2 * a.channels, a.numClasses, false);
  }
}

export interface AttentionResult {
  out: tf.Tensor4D;
  /** Logits of the auxiliary classifier (B, classes), or null when it is off. */
  aux: tf.Tensor2D | null;
}

/**
 * Z_c = sum_ij X_c(i, j) * W_c(i, j): a depthwise convolution whose kernel (H, W, C) covers the whole map, so Z is
 * (B*T, C). The backward pass is written out (dX = dZ W, dW = sum over frames of dZ X): tfjs' autodiff of sum(x * w)
 * would first spread dZ over a ones tensor of X's size and multiply once more.
 */
export function globalDepthwiseConv(x: tf.Tensor4D, w: tf.Tensor3D): tf.Tensor2D {
  const [n, , , c] = x.shape;
  const op = customOp(([xi, wi], save) => {
    save([xi, wi]);
    return {
      value: tf.sum(tf.mul(xi, wi), [1, 2]),
      gradFunc: (dz, [xs, ws]) => {
        const spread = tf.reshape(dz, [n, 1, 1, c]);
        return [tf.mul(spread, ws), tf.sum(tf.mul(xs, spread), 0)];
      },
    };
  });
  return op(x, w) as tf.Tensor2D;
}

/** GAP over frames of each clip: (B*T, C) -> (B, 1, C). */
const temporalMean = (z: tf.Tensor2D, frames: number) => tf.mean(tf.reshape(z, [-1, frames, z.shape[1]]), 1, true);

/** Apply channel attention to x (B*T, H, W, C); `frames` = T regroups frames into clips. */
export function channelAttention(
  p: ParamStore,
  prefix: string,
  a: AttentionSpec,
  x: tf.Tensor4D,
  frames: number,
): AttentionResult {
  if (a.type === 'none') return { out: x, aux: null };
  const excite = (z: tf.Tensor2D) =>
    linear(relu(linear(z, p.get(`${prefix}.fc1.0.weight`))), p.get(`${prefix}.fc2.0.weight`)) as tf.Tensor2D;
  const c = a.channels;
  let z: tf.Tensor2D; // the squeeze descriptor Z
  let s: tf.Tensor2D; // per-frame channel weights S
  switch (a.type) {
    case 'gca': {
      // Global convolution: Z_c = sum_ij X_c(i, j) * Wgc_c(i, j), a depthwise conv whose kernel is the whole map,
      // so it keeps location information that pooling discards.
      z = globalDepthwiseConv(x, p.get(`${prefix}.gc.0.weight`));
      // s = 2 sigmoid(.) in (0, 2); S = sqrt(s * GAP_t(s) + 1e-5): per-frame weight tempered by the clip's mean,
      // so channels can be amplified (S > 1) as well as suppressed (paper Eq. 4-6, code's exact form).
      const sFrame = tf.mul(2, tf.sigmoid(excite(z)));
      const sClip = temporalMean(sFrame as tf.Tensor2D, frames);
      const product = tf.mul(tf.reshape(sFrame, [-1, frames, c]), sClip);
      s = tf.reshape(tf.sqrt(tf.add(product, 1e-5)), [-1, c]) as tf.Tensor2D;
      break;
    }
    case 'se':
      z = tf.mean(x, [1, 2]) as tf.Tensor2D;
      s = tf.sigmoid(excite(z)) as tf.Tensor2D;
      break;
    case 'cbam': {
      // CBAM's channel attention: the shared MLP over the average- and max-pooled descriptors, summed.
      z = tf.mean(x, [1, 2]) as tf.Tensor2D;
      const zMax = tf.max(x, [1, 2]) as tf.Tensor2D;
      s = tf.sigmoid(tf.add(excite(z), excite(zMax))) as tf.Tensor2D;
      break;
    }
  }
  const out = tf.mul(x, tf.reshape(s, [-1, 1, 1, c])) as tf.Tensor4D;
  const aux = a.aux
    ? (linear(
        linear(tf.reshape(temporalMean(z, frames), [-1, c]), p.get(`${prefix}.AUX_fc.0.weight`)),
        p.get(`${prefix}.AUX_fc.1.weight`),
      ) as tf.Tensor2D)
    : null;
  return { out, aux };
}
