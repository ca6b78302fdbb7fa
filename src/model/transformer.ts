// The pre-norm transformer of Former-DFER used twice (spatial "pos_transformer", temporal "temporal_transformer"):
// per layer x = Attn(LN(x)) + x; x = FF(LN(x)) + x; no final norm, dropout 0.
// The official Residual wrapper evaluates each sub-layer twice; it is deterministic, so computing it once is equal.
import * as tf from '@tensorflow/tfjs-core';
import type { TransformerConfig } from '../config.js';
import { gelu, layerNorm, linear } from './ops.js';
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
  const [b, n] = x.shape;
  const inner = t.heads * t.dimHead;
  const qkv = linear(x, p.get(`${prefix}.to_qkv.weight`));
  const [q, k, v] = tf.split(qkv, 3, 2).map((m) => tf.transpose(tf.reshape(m, [b, n, t.heads, t.dimHead]), [0, 2, 1, 3]) as tf.Tensor4D);
  const scores = tf.mul(tf.matMul(q, k, false, true), t.dimHead ** -0.5);
  const out = tf.matMul(tf.softmax(scores), v); // (b, h, n, d)
  const merged = tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [b, n, inner]);
  return linear(merged, p.get(`${prefix}.to_out.0.weight`), p.get(`${prefix}.to_out.0.bias`)) as tf.Tensor3D;
}

function feedForward(p: ParamStore, prefix: string, x: tf.Tensor3D): tf.Tensor3D {
  const hidden = gelu(linear(x, p.get(`${prefix}.net.0.weight`), p.get(`${prefix}.net.0.bias`)));
  return linear(hidden, p.get(`${prefix}.net.3.weight`), p.get(`${prefix}.net.3.bias`)) as tf.Tensor3D;
}

/** Tokens (B, N, dim) -> (B, N, dim). */
export function transformer(p: ParamStore, prefix: string, x: tf.Tensor3D, t: TransformerConfig): tf.Tensor3D {
  for (let i = 0; i < t.depth; i++) {
    const attn = `${prefix}.layers.${i}.0.fn`;
    x = tf.add(attention(p, `${attn}.fn`, layerNorm(x, p.get(`${attn}.norm.weight`), p.get(`${attn}.norm.bias`)) as tf.Tensor3D, t), x);
    const ff = `${prefix}.layers.${i}.1.fn`;
    x = tf.add(feedForward(p, `${ff}.fn`, layerNorm(x, p.get(`${ff}.norm.weight`), p.get(`${ff}.norm.bias`)) as tf.Tensor3D), x);
  }
  return x;
}
