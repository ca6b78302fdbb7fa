// The GCA + IAL network, top to bottom in the order data flows (read it beside ../../../shared/reference/MODEL.md):
// stem -> layer1..3 (BasicBlocks, channel attention in layer2/3) -> dynamic-static fusion -> temporal transformer
// -> mean token (the clip feature) -> fc_f. Frames are NHWC; a clip batch (B, T, 3, H, W) is flattened to B*T frames.
import * as tf from '@tensorflow/tfjs-core';
import { deriveShapes, validateConfig, type ModelConfig } from '../config.js';
import { channelAttention, declareAttention, type AttentionSpec } from './attention.js';
import { addRelu, batchNorm, conv2d, linear, type BatchNormState } from './ops.js';
import { Rng } from '../random.js';
import { ModuleBuilder, ParamStore } from './params.js';
import { declareTransformer, transformer } from './transformer.js';

export const S = 's_former'; // the official module prefix of everything but the final classifier

export interface Model {
  config: ModelConfig;
  params: ParamStore;
}

export interface ForwardOptions {
  /** Training mode: BatchNorm uses (and updates running estimates from) batch statistics. */
  training: boolean;
  /** Input layout: (B, T, 3, H, W) as the official code (default), or (B, T, H, W, 3) as dfer's loader yields. */
  layout?: 'BTCHW' | 'BTHWC';
}

export interface ForwardOutput {
  logits: tf.Tensor2D; // (B, classes)
  features: tf.Tensor2D; // (B, temporalDim): mean temporal token, the t-SNE feature
  aux2: tf.Tensor2D | null; // auxiliary logits of the layer2 / layer3 attention
  aux3: tf.Tensor2D | null;
}

// ---------------------------------------------------------------------------------------------------------------
// Conv -> BN helpers

function bnState(p: ParamStore, name: string): BatchNormState {
  return {
    gamma: p.get(`${name}.weight`),
    beta: p.get(`${name}.bias`),
    runningMean: p.get<tf.Variable>(`${name}.running_mean`),
    runningVar: p.get<tf.Variable>(`${name}.running_var`),
  };
}

/** conv -> BN (-> ReLU when `relu`). */
function convBn(
  p: ParamStore,
  conv: string,
  bn: string,
  x: tf.Tensor4D,
  stride: number,
  pad: number,
  o: ForwardOptions,
  relu = false,
): tf.Tensor4D {
  return batchNorm(conv2d(x, p.get(`${conv}.weight`), stride, pad), bnState(p, bn), o.training, {
    relu,
  }) as tf.Tensor4D;
}

// ---------------------------------------------------------------------------------------------------------------
// BasicBlock (ResNet-18): conv3x3(stride) -> BN -> ReLU -> conv3x3 -> BN -> [channel attention] -> + identity -> ReLU

export interface BlockSpec {
  cin: number;
  planes: number;
  stride: number;
  attention: AttentionSpec | null;
}

export const hasDownsample = (blk: BlockSpec) => blk.stride !== 1 || blk.cin !== blk.planes;

function declareBlock(b: ModuleBuilder, prefix: string, blk: BlockSpec): void {
  b.conv(`${prefix}.conv1`, blk.cin, blk.planes, 3);
  b.batchNorm(`${prefix}.bn1`, blk.planes);
  b.conv(`${prefix}.conv2`, blk.planes, blk.planes, 3);
  b.batchNorm(`${prefix}.bn2`, blk.planes);
  if (hasDownsample(blk)) {
    b.conv(`${prefix}.downsample.0`, blk.cin, blk.planes, 1);
    b.batchNorm(`${prefix}.downsample.1`, blk.planes);
  }
  if (blk.attention) declareAttention(b, prefix, blk.attention);
}

function basicBlock(p: ParamStore, prefix: string, blk: BlockSpec, x: tf.Tensor4D, frames: number, o: ForwardOptions) {
  let out = convBn(p, `${prefix}.conv1`, `${prefix}.bn1`, x, blk.stride, 1, o, true);
  out = convBn(p, `${prefix}.conv2`, `${prefix}.bn2`, out, 1, 1, o);
  let aux: tf.Tensor2D | null = null;
  if (blk.attention) ({ out, aux } = channelAttention(p, prefix, blk.attention, out, frames));
  const identity = hasDownsample(blk)
    ? convBn(p, `${prefix}.downsample.0`, `${prefix}.downsample.1`, x, blk.stride, 0, o)
    : x;
  return { out: addRelu(out, identity) as tf.Tensor4D, aux };
}

// ---------------------------------------------------------------------------------------------------------------
// The architecture as data: every block and its attention, derived from the config.

export function blockSpecs(c: ModelConfig) {
  const shapes = deriveShapes(c);
  const attn = (channels: number, spatial: number): AttentionSpec | null =>
    c.attention === 'none'
      ? null // no descriptor, so no aux head either
      : { type: c.attention, channels, spatial, reduction: c.reduction, aux: c.aux, numClasses: c.numClasses };
  const [w1, w2, w3, w4] = c.widths;
  return {
    layer1: { cin: c.stemWidth, planes: w1, stride: 1, attention: null } as BlockSpec,
    layer2: { cin: w1, planes: w2, stride: 2, attention: attn(w2, shapes.layer2) } as BlockSpec,
    layer3: { cin: w2, planes: w3, stride: 2, attention: attn(w3, shapes.layer3) } as BlockSpec,
    layer4: Array.from(
      { length: c.dynamicDepth },
      (_, i): BlockSpec => ({ cin: i === 0 ? w3 : w4, planes: w4, stride: i === 0 ? 2 : 1, attention: null }),
    ),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The factory: config + seed -> tensors named as in the official state_dict.

export function createModel(config: ModelConfig, seed = 0): Model {
  const c = validateConfig(config);
  const shapes = deriveShapes(c);
  const params = new ParamStore();
  const b = new ModuleBuilder(params, new Rng(seed));
  const blocks = blockSpecs(c);

  b.embedding(`${S}.pos_embedding_pos`, [1, shapes.spatialTokens, c.patchDim]);
  b.embedding(`${S}.pos_embedding`, [1, c.frames, shapes.temporalDim]);
  // Stem
  b.conv(`${S}.conv1.0`, 3, c.stemWidth, 3);
  b.batchNorm(`${S}.conv1.1`, c.stemWidth);
  b.conv(`${S}.conv1.3`, c.stemWidth, c.stemWidth, 3);
  b.batchNorm(`${S}.bn1`, c.stemWidth);
  // Frame-level residual stages
  declareBlock(b, `${S}.layer1.0`, blocks.layer1);
  declareBlock(b, `${S}.layer2.0`, blocks.layer2);
  declareBlock(b, `${S}.layer3.0`, blocks.layer3);
  // Dynamic-static fusion
  blocks.layer4.forEach((blk, i) => declareBlock(b, `${S}.layer4.${i}`, blk));
  b.conv(`${S}.patch_embedding.0`, c.widths[2], c.patchDim, 3);
  b.batchNorm(`${S}.patch_embedding.1`, c.patchDim);
  declareTransformer(b, `${S}.pos_transformer`, c.patchDim, c.spatialTransformer);
  // Temporal transformer and classifier
  declareTransformer(b, `${S}.temporal_transformer`, shapes.temporalDim, c.temporalTransformer);
  b.linear('fc_f', shapes.temporalDim, c.numClasses, true);
  return { config: c, params };
}

// ---------------------------------------------------------------------------------------------------------------
// Forward pass

/** clips: float in [0, 1], (B, T, 3, H, W) (the official input layout) or (B, T, H, W, 3) with layout BTHWC. */
export function forward(model: Model, clips: tf.Tensor5D, o: ForwardOptions): ForwardOutput {
  const { config: c, params: p } = model;
  const shapes = deriveShapes(c);
  const blocks = blockSpecs(c);
  const hwc = o.layout === 'BTHWC';
  const [B, T] = clips.shape;
  const [H, W, ch] = hwc ? clips.shape.slice(2) : [clips.shape[3], clips.shape[4], clips.shape[2]];
  if (T !== c.frames || ch !== 3 || H !== c.imageSize || W !== c.imageSize) {
    const want = hwc
      ? `(B, ${c.frames}, ${c.imageSize}, ${c.imageSize}, 3)`
      : `(B, ${c.frames}, 3, ${c.imageSize}, ${c.imageSize})`;
    throw new Error(`input clips must be ${want}; got (${clips.shape.join(', ')})`);
  }
  let x = tf.reshape(hwc ? clips : tf.transpose(clips, [0, 1, 3, 4, 2]), [B * T, H, W, 3]) as tf.Tensor4D;

  // Stem: 3x3/2 conv -> BN -> ReLU -> 3x3 conv -> BN -> ReLU -> 3x3/2 max-pool
  x = convBn(p, `${S}.conv1.0`, `${S}.conv1.1`, x, 2, 1, o, true);
  x = convBn(p, `${S}.conv1.3`, `${S}.bn1`, x, 1, 1, o, true);
  x = tf.maxPool(x, 3, 2, 1);

  // Frame-level features; channel attention (and its aux head) in layer2 and layer3
  x = basicBlock(p, `${S}.layer1.0`, blocks.layer1, x, T, o).out;
  const l2 = basicBlock(p, `${S}.layer2.0`, blocks.layer2, x, T, o);
  const l3 = basicBlock(p, `${S}.layer3.0`, blocks.layer3, l2.out, T, o);
  const [, h3, w3, c3] = l3.out.shape;
  const perClip = tf.reshape(l3.out, [B, T, h3, w3, c3]);
  const tm1 = shapes.temporalTokens; // T - 1

  // Dynamic branch: frame differences x[t+1] - x[t] through layer4
  let dynamic = tf.reshape(
    tf.sub(
      tf.slice(perClip, [0, 1, 0, 0, 0], [B, tm1, h3, w3, c3]),
      tf.slice(perClip, [0, 0, 0, 0, 0], [B, tm1, h3, w3, c3]),
    ),
    [B * tm1, h3, w3, c3],
  ) as tf.Tensor4D;
  blocks.layer4.forEach((blk, i) => (dynamic = basicBlock(p, `${S}.layer4.${i}`, blk, dynamic, tm1, o).out));

  // Static branch: frames 0..T-2 -> patch embedding -> spatial transformer over the hw patches
  const first = tf.reshape(tf.slice(perClip, [0, 0, 0, 0, 0], [B, tm1, h3, w3, c3]), [
    B * tm1,
    h3,
    w3,
    c3,
  ]) as tf.Tensor4D;
  const patches = convBn(p, `${S}.patch_embedding.0`, `${S}.patch_embedding.1`, first, 2, 1, o, true);
  const [, hf, wf, cf] = patches.shape;
  let tokens = tf.add(tf.reshape(patches, [B * tm1, hf * wf, cf]), p.get(`${S}.pos_embedding_pos`)) as tf.Tensor3D;
  tokens = transformer(p, `${S}.pos_transformer`, tokens, c.spatialTransformer);
  const fused = tf.add(tf.reshape(tokens, [B * tm1, hf, wf, cf]), dynamic);

  // Temporal transformer over the T-1 fused maps, each flattened in PyTorch's (C, H, W) order
  const flat = tf.reshape(tf.transpose(fused, [0, 3, 1, 2]), [B, tm1, shapes.temporalDim]);
  const pos = tf.slice(p.get(`${S}.pos_embedding`), [0, 0, 0], [1, tm1, shapes.temporalDim]);
  const temporal = transformer(p, `${S}.temporal_transformer`, tf.add(flat, pos) as tf.Tensor3D, c.temporalTransformer);
  const features = tf.mean(temporal, 1) as tf.Tensor2D;
  const logits = linear(features, p.get<tf.Tensor2D>('fc_f.weight'), p.get<tf.Tensor1D>('fc_f.bias')) as tf.Tensor2D;
  return { logits, features, aux2: l2.aux, aux3: l3.aux };
}
