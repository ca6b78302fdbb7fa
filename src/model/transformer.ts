// The pre-norm transformer of Former-DFER used twice (spatial "pos_transformer", temporal "temporal_transformer"):
// per layer x = Attn(LN(x)) + x; x = FF(LN(x)) + x; no final norm, dropout 0.
// The official Residual wrapper evaluates each sub-layer twice; it is deterministic, so computing it once is equal.
import * as tf from '@tensorflow/tfjs-core';
import type { TransformerConfig } from '../config.js';
import { customOp, gelu, layerNorm, linear } from './ops.js';
import type { ModuleBuilder, ParamStore } from './params.js';

export function declareTransformer(b: ModuleBuilder, prefix: string, dim: number, t: TransformerConfig): void {
  const inner = t.heads * t.dimHead;
  for (let i = 0; i < t.depth; i++) {
    const attn = `${prefix}.layers.${i}.0.fn`;
    b.layerNorm(`${attn}.norm`, dim);
    b.linear(`${attn}.fn.to_qkv`, dim, 3 * inner, false);
    b.linear(`${attn}.fn.to_out.0`, inner, dim, true);
    const ff = `${prefix}.layers.${i}.1.fn`;
    b.layerNorm(`${ff}.norm`, dim);
    b.linear(`${ff}.fn.net.0`, dim, t.mlpDim, true);
    b.linear(`${ff}.fn.net.3`, t.mlpDim, dim, true);
  }
}

/** Multi-head self-attention; q, k, v split in that order, heads split as (h d) with h outer. */
function attention(p: ParamStore, prefix: string, x: tf.Tensor3D, t: TransformerConfig): tf.Tensor3D {
  const qkv = linear(x, p.get(`${prefix}.to_qkv.weight`)) as tf.Tensor3D;
  return linear(attend(qkv, t), p.get(`${prefix}.to_out.0.weight`), p.get(`${prefix}.to_out.0.bias`)) as tf.Tensor3D;
}

/**
 * softmax(q k^T / sqrt(d)) v per head: (b, n, 3 * h * d) -> (b, n, h * d). One tape entry whose backward pass is the
 * one tfjs' autodiff derives, op for op (softmax: dS = dP * P - P * sum(dP * P)), without taping the split, the head
 * transposes and the two products one by one.
 */
export function attend(qkv: tf.Tensor3D, t: TransformerConfig): tf.Tensor3D {
  const [b, n] = qkv.shape;
  const inner = t.heads * t.dimHead;
  const scale = t.dimHead ** -0.5;
  const toHeads = (m: tf.Tensor) =>
    tf.transpose(tf.reshape(m, [b, n, t.heads, t.dimHead]), [0, 2, 1, 3]) as tf.Tensor4D;
  const fromHeads = (m: tf.Tensor) => tf.reshape(tf.transpose(m, [0, 2, 1, 3]), [b, n, inner]);
  const op = customOp(([qkvIn], save) => {
    const [q, k, v] = tf.split(qkvIn, 3, 2).map(toHeads);
    const probs = tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale)) as tf.Tensor4D;
    save([q, k, v, probs]);
    return {
      value: fromHeads(tf.matMul(probs, v)),
      gradFunc: (dy, [qs, ks, vs, ps]) => {
        const dOut = toHeads(dy);
        const dv = tf.matMul(ps as tf.Tensor4D, dOut, true, false);
        const dProbs = tf.mul(tf.matMul(dOut, vs as tf.Tensor4D, false, true), ps);
        const dScores = tf.mul(tf.sub(dProbs, tf.mul(tf.sum(dProbs, -1, true), ps)), scale) as tf.Tensor4D;
        const dq = tf.matMul(dScores, ks as tf.Tensor4D);
        const dk = tf.matMul(dScores, qs as tf.Tensor4D, true, false);
        return [tf.concat([dq, dk, dv].map(fromHeads), 2)];
      },
    };
  });
  return op(qkv) as tf.Tensor3D;
}

function feedForward(p: ParamStore, prefix: string, x: tf.Tensor3D): tf.Tensor3D {
  const hidden = gelu(linear(x, p.get(`${prefix}.net.0.weight`), p.get(`${prefix}.net.0.bias`)));
  return linear(hidden, p.get(`${prefix}.net.3.weight`), p.get(`${prefix}.net.3.bias`)) as tf.Tensor3D;
}

/** Tokens (B, N, dim) -> (B, N, dim). */
export function transformer(p: ParamStore, prefix: string, x: tf.Tensor3D, t: TransformerConfig): tf.Tensor3D {
  for (let i = 0; i < t.depth; i++) {
    const attn = `${prefix}.layers.${i}.0.fn`;
    x = tf.add(
      attention(
        p,
        `${attn}.fn`,
        layerNorm(x, p.get(`${attn}.norm.weight`), p.get(`${attn}.norm.bias`)) as tf.Tensor3D,
        t,
      ),
      x,
    );
    const ff = `${prefix}.layers.${i}.1.fn`;
    x = tf.add(
      feedForward(p, `${ff}.fn`, layerNorm(x, p.get(`${ff}.norm.weight`), p.get(`${ff}.norm.bias`)) as tf.Tensor3D),
      x,
    );
  }
  return x;
}
