// The inference network as a dataflow graph (graph.ts), module by module as in ../model/network.ts, which it mirrors
// in eval mode: BatchNorm uses its running statistics and is folded into the convolution before it (w' = w * scale,
// b' = beta - mean * scale), the aux heads are left out (they only feed the training loss). The exporters' tests run
// the result against forward() on the authors' golden batch, so a divergence from network.ts fails there.
import { deriveShapes, type ModelConfig, type TransformerConfig } from '../config.js';
import type { AttentionSpec } from '../model/attention.js';
import { blockSpecs, hasDownsample, S, type BlockSpec, type Model } from '../model/network.js';
import { BN_EPS, LN_EPS } from '../model/ops.js';
import { GraphBuilder, type Graph, type Value } from './graph.js';

/** Every parameter and buffer of a model, read from the backend once. */
export type Weights = Map<string, { data: Float32Array; shape: number[] }>;

/** Asynchronous reads: a GPU backend has no synchronous one. */
export async function readWeights(model: Model): Promise<Weights> {
  const out: Weights = new Map();
  for (const [name, v] of model.params.vars) out.set(name, { data: (await v.data()) as Float32Array, shape: v.shape });
  return out;
}

/** The names of the graph's input and outputs: the contract of both exported formats. */
export const GRAPH_INPUT = 'clips';

/** A batch of clips as the graph takes it: (N, T, 3, H, W) float32 in [0, 1]. */
export interface ClipBatch {
  data: Float32Array;
  shape: number[];
}

/** The graph's outputs for a batch, flat: logits (N, classes), features (N, temporalDim). */
export interface GraphOutputs {
  logits: Float32Array;
  features: Float32Array;
}

export function networkGraph(config: ModelConfig, weights: Weights): Graph {
  const g = new GraphBuilder();
  const c = config;
  const shapes = deriveShapes(c);
  const blocks = blockSpecs(c);
  const T = c.frames;
  const tm1 = shapes.temporalTokens;

  const param = (name: string) => {
    const w = weights.get(name);
    if (!w) throw new Error(`the checkpoint has no ${name}`);
    return w;
  };
  const used = new Map<string, Value>(); // CBAM's MLP is shared by its two descriptors
  const weight = (name: string) => {
    if (!used.has(name)) used.set(name, g.constant(name, param(name).data, param(name).shape));
    return used.get(name)!;
  };

  /** conv -> BN (eval) as one convolution with a bias (-> ReLU). */
  const convBn = (conv: string, bn: string, x: Value, stride: number, pad: number, relu = false) =>
    g.scope(conv, () => {
      const w = param(`${conv}.weight`);
      const gamma = param(`${bn}.weight`).data;
      const beta = param(`${bn}.bias`).data;
      const mean = param(`${bn}.running_mean`).data;
      const variance = param(`${bn}.running_var`).data;
      const cout = gamma.length;
      const scale = gamma.map((gm, i) => gm / Math.sqrt(variance[i] + BN_EPS));
      const folded = w.data.map((v, i) => v * scale[i % cout]); // HWIO: the output channel is the last axis
      const bias = beta.map((b, i) => b - mean[i] * scale[i]);
      const y = g.conv2d(
        x,
        g.constant(`${conv}.weight_bn_folded`, folded, w.shape),
        g.constant(`${conv}.bias_bn_folded`, bias, [cout]),
        stride,
        pad,
      );
      return relu ? g.unary('relu', y) : y;
    });

  /** y = x W (+ b) over the last axis, as a 2-D product (the leading axes flattened, one of them dynamic). */
  const linear = (x: Value, prefix: string, bias: boolean) => {
    const w = weight(`${prefix}.weight`);
    const lead = x.shape.slice(1, -1);
    let y = g.matMul(g.reshape(x, [-1, x.shape[x.shape.length - 1]]), w);
    if (bias) y = g.binary('add', y, weight(`${prefix}.bias`));
    return g.reshape(y, [-1, ...lead, w.shape[1]]);
  };

  // -- Channel attention (attention.ts) --------------------------------------------------------------------------

  const temporalMean = (z: Value, ch: number) => g.reduce('mean', g.reshape(z, [-1, T, ch]), [1], true);

  const channelAttention = (prefix: string, a: AttentionSpec, x: Value): Value => {
    if (a.type === 'none') return x;
    const ch = a.channels;
    const excite = (z: Value) => linear(g.unary('relu', linear(z, `${prefix}.fc1.0`, false)), `${prefix}.fc2.0`, false);
    let s: Value;
    if (a.type === 'gca') {
      // Z_c = sum_ij X_c(i, j) W_c(i, j); S = sqrt(s * GAP_t(s) + 1e-5) with s = 2 sigmoid(MLP(Z))
      const z = g.reduce('sum', g.binary('mul', x, weight(`${prefix}.gc.0.weight`)), [1, 2]);
      const sFrame = g.binary('mul', g.unary('sigmoid', excite(z)), 2);
      const product = g.binary('mul', g.reshape(sFrame, [-1, T, ch]), temporalMean(sFrame, ch));
      s = g.reshape(g.unary('sqrt', g.binary('add', product, 1e-5)), [-1, ch]);
    } else if (a.type === 'se') {
      s = g.unary('sigmoid', excite(g.reduce('mean', x, [1, 2])));
    } else {
      const avg = excite(g.reduce('mean', x, [1, 2]));
      s = g.unary('sigmoid', g.binary('add', avg, excite(g.reduce('max', x, [1, 2]))));
    }
    return g.binary('mul', x, g.reshape(s, [-1, 1, 1, ch]));
  };

  // -- BasicBlock --------------------------------------------------------------------------------------------------

  const basicBlock = (prefix: string, blk: BlockSpec, x: Value) =>
    g.scope(prefix, () => {
      let out = convBn(`${prefix}.conv1`, `${prefix}.bn1`, x, blk.stride, 1, true);
      out = convBn(`${prefix}.conv2`, `${prefix}.bn2`, out, 1, 1);
      if (blk.attention) out = channelAttention(prefix, blk.attention, out);
      const identity = hasDownsample(blk)
        ? convBn(`${prefix}.downsample.0`, `${prefix}.downsample.1`, x, blk.stride, 0)
        : x;
      return g.unary('relu', g.binary('add', out, identity));
    });

  // -- Transformer (transformer.ts) --------------------------------------------------------------------------------

  const layerNorm = (x: Value, prefix: string) => {
    const centered = g.binary('sub', x, g.reduce('mean', x, [-1], true));
    const variance = g.reduce('mean', g.binary('mul', centered, centered), [-1], true);
    const normed = g.binary('div', centered, g.unary('sqrt', g.binary('add', variance, LN_EPS)));
    return g.binary('add', g.binary('mul', normed, weight(`${prefix}.weight`)), weight(`${prefix}.bias`));
  };

  const attention = (x: Value, prefix: string, t: TransformerConfig) => {
    const [, n] = x.shape;
    const inner = t.heads * t.dimHead;
    const qkv = linear(x, `${prefix}.to_qkv`, false);
    const head = (i: number) =>
      g.transpose(
        g.reshape(g.slice(qkv, [0, 0, i * inner], [-1, n, inner]), [-1, n, t.heads, t.dimHead]),
        [0, 2, 1, 3],
      );
    const [q, k, v] = [0, 1, 2].map(head);
    const scores = g.binary('mul', g.matMul(q, k, true), t.dimHead ** -0.5);
    const mixed = g.matMul(g.unary('softmax', scores), v);
    return linear(g.reshape(g.transpose(mixed, [0, 2, 1, 3]), [-1, n, inner]), `${prefix}.to_out.0`, true);
  };

  /** GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))). */
  const gelu = (x: Value) => {
    const cube = g.binary('mul', g.binary('mul', x, x), x);
    const inner = g.binary('mul', g.binary('add', x, g.binary('mul', cube, 0.044715)), Math.sqrt(2 / Math.PI));
    return g.binary('mul', g.binary('mul', x, 0.5), g.binary('add', g.unary('tanh', inner), 1));
  };

  const transformer = (prefix: string, x: Value, t: TransformerConfig) =>
    g.scope(prefix, () => {
      for (let i = 0; i < t.depth; i++) {
        const attn = `${prefix}.layers.${i}.0.fn`;
        x = g.binary('add', attention(layerNorm(x, `${attn}.norm`), `${attn}.fn`, t), x);
        const ff = `${prefix}.layers.${i}.1.fn`;
        const hidden = gelu(linear(layerNorm(x, `${ff}.norm`), `${ff}.fn.net.0`, true));
        x = g.binary('add', linear(hidden, `${ff}.fn.net.3`, true), x);
      }
      return x;
    });

  // -- Forward pass (network.ts forward, eval mode) ----------------------------------------------------------------

  const H = c.imageSize;
  const clips = g.input(GRAPH_INPUT, [-1, T, 3, H, H]);
  let x = g.reshape(g.transpose(clips, [0, 1, 3, 4, 2]), [-1, H, H, 3]);

  // Stem
  x = convBn(`${S}.conv1.0`, `${S}.conv1.1`, x, 2, 1, true);
  x = convBn(`${S}.conv1.3`, `${S}.bn1`, x, 1, 1, true);
  x = g.maxPool(x, 3, 2, 1);

  // Frame-level features
  x = basicBlock(`${S}.layer1.0`, blocks.layer1, x);
  x = basicBlock(`${S}.layer2.0`, blocks.layer2, x);
  x = basicBlock(`${S}.layer3.0`, blocks.layer3, x);
  const [, h3, w3, c3] = x.shape;
  const perClip = g.reshape(x, [-1, T, h3, w3, c3]);
  const frames = (start: number) =>
    g.reshape(g.slice(perClip, [0, start, 0, 0, 0], [-1, tm1, h3, w3, c3]), [-1, h3, w3, c3]);

  // Dynamic branch: frame differences through layer4
  let dynamic = g.binary('sub', frames(1), frames(0));
  blocks.layer4.forEach((blk, i) => (dynamic = basicBlock(`${S}.layer4.${i}`, blk, dynamic)));

  // Static branch: frames 0..T-2 -> patch embedding -> spatial transformer
  const patches = convBn(`${S}.patch_embedding.0`, `${S}.patch_embedding.1`, frames(0), 2, 1, true);
  const [, hf, wf, cf] = patches.shape;
  let tokens = g.binary('add', g.reshape(patches, [-1, hf * wf, cf]), weight(`${S}.pos_embedding_pos`));
  tokens = transformer(`${S}.pos_transformer`, tokens, c.spatialTransformer);
  const fused = g.binary('add', g.reshape(tokens, [-1, hf, wf, cf]), dynamic);

  // Temporal transformer over the T-1 fused maps, each flattened in PyTorch's (C, H, W) order
  const flat = g.reshape(g.transpose(fused, [0, 3, 1, 2]), [-1, tm1, shapes.temporalDim]);
  const posAll = param(`${S}.pos_embedding`);
  const pos = g.constant(`${S}.pos_embedding`, posAll.data.slice(0, tm1 * shapes.temporalDim), [
    1,
    tm1,
    shapes.temporalDim,
  ]);
  const temporal = transformer(`${S}.temporal_transformer`, g.binary('add', flat, pos), c.temporalTransformer);
  const features = g.reduce('mean', temporal, [1]);
  const logits = linear(features, 'fc_f', true);
  g.output('logits', logits);
  g.output('features', features);
  return g.build();
}
