// Numerical building blocks with PyTorch semantics, in NHWC (the layout tfjs' cpu and wasm kernels support).
// Each one is written so that its gradient is cheap on the wasm backend, which lacks Conv2DBackpropFilter and
// whose autodiff of tf.moments spends most of its time in Tile.
import * as tf from '@tensorflow/tfjs-core';
import { hasFused, needsConvGradientRewrite } from '../backend.js';
import { FUSED, FUSED_NORM } from '../fused.js';

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;
export const LN_EPS = 1e-5;

/** tf.customGrad with typed tensor arguments; `save` keeps tensors for the backward pass. Besides fused kernels, it
 * serves to cut the per-op cost of tfjs' autodiff: the ops inside `f` are not recorded on the tape, and only the
 * tensors passed to `save` are cloned for the backward pass (the tape clones every saved input of every op). */
type Save = (tensors: tf.Tensor[]) => void;
type GradResult = { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] };
export function customOp(f: (inputs: tf.Tensor[], save: Save) => GradResult): (...inputs: tf.Tensor[]) => tf.Tensor {
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args.pop() as Save;
    return f(args as tf.Tensor[], save);
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (...inputs) => op(...inputs) as tf.Tensor;
}

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];
const pad4 = (top: number, bottom: number, left: number, right: number): Pad4 => [
  [0, 0],
  [top, bottom],
  [left, right],
  [0, 0],
];

/** Insert (s - 1) zeros between the rows and columns of dy: (N, OH, OW, C) -> (N, (OH-1)s+1, (OW-1)s+1, C). */
function zeroDilate(dy: tf.Tensor4D, s: number): tf.Tensor4D {
  if (s === 1) return dy;
  const [n, oh, ow, c] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [n, oh, 1, ow, 1, c]), [
    [0, 0],
    [0, 0],
    [0, s - 1],
    [0, 0],
    [0, s - 1],
    [0, 0],
  ]);
  return tf.slice(
    tf.reshape(spread as tf.Tensor, [n, oh * s, ow * s, c]) as tf.Tensor4D,
    [0, 0, 0, 0],
    [n, (oh - 1) * s + 1, (ow - 1) * s + 1, c],
  );
}

/** dL/dx of a strided, symmetrically padded conv, as one forward conv (41 GFLOPS on wasm vs 4 for the stock kernel). */
function convBackpropInput(dy: tf.Tensor4D, w: tf.Tensor4D, inShape: number[], s: number, p: number): tf.Tensor4D {
  const [kh, kw] = w.shape;
  const [, h, wd] = inShape;
  const [, oh, ow] = dy.shape;
  const flipped = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]); // (kh, kw, out, in)
  const pads = pad4(kh - 1 - p, h + p - (oh - 1) * s - 1, kw - 1 - p, wd + p - (ow - 1) * s - 1);
  return tf.conv2d(zeroDilate(dy, s), flipped, 1, pads);
}

/**
 * dL/dw as a forward conv with batch and channel axes swapped: the input is x as (Cin, H, W, N), the filter is dy as
 * (OH, OW, N, Cout) dilated by the stride. 20 GFLOPS on wasm, where Conv2DBackpropFilter has no kernel at all.
 */
function convBackpropFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  kh: number,
  kw: number,
  s: number,
  p: number,
): tf.Tensor4D {
  let xt = tf.transpose(x, [3, 1, 2, 0]); // (Cin, H, W, N)
  const [, oh, ow] = dy.shape;
  // Rows past the last window the forward pass read contribute nothing; crop them, pad the rest.
  let bottom = kh + (oh - 1) * s - xt.shape[1] - p;
  let right = kw + (ow - 1) * s - xt.shape[2] - p;
  if (bottom < 0 || right < 0) {
    xt = tf.slice(xt, [0, 0, 0, 0], [-1, xt.shape[1] + Math.min(bottom, 0), xt.shape[2] + Math.min(right, 0), -1]);
    bottom = Math.max(bottom, 0);
    right = Math.max(right, 0);
  }
  const filter = tf.transpose(dy, [1, 2, 0, 3]); // (OH, OW, N, Cout)
  const dw = tf.conv2d(xt, filter, 1, pad4(p, bottom, p, right), 'NHWC', s); // (Cin, kh, kw, Cout)
  return tf.transpose(dw, [1, 2, 0, 3]);
}

/** PyTorch Conv2d(k, stride, padding=p, bias=False) in NHWC with an HWIO filter. */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D {
  if (!needsConvGradientRewrite()) return tf.conv2d(x, w, stride, pad);
  const op = customOp(([xi, wi], save) => {
    const xin = xi as tf.Tensor4D;
    const win = wi as tf.Tensor4D;
    save([xin, win]);
    return {
      value: tf.conv2d(xin, win, stride, pad),
      gradFunc: (dy, saved) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dy4 = dy as tf.Tensor4D;
        return [
          convBackpropInput(dy4, ws, xs.shape, stride, pad),
          convBackpropFilter(xs, dy4, ws.shape[0], ws.shape[1], stride, pad),
        ];
      },
    };
  });
  return op(x, w) as tf.Tensor4D;
}

// Float32 sums of 10^5 terms accumulated one by one (the wasm kernels) drift by ~1e-5 relative; PyTorch sums
// pairwise. Summing in two stages of ~sqrt(n) terms each brings wasm to the cpu backend's (float64) accuracy.

/** Sum over every axis but the last, in two stages: the inner axes first, then axis 0. */
function sumPerChannel(x: tf.Tensor): tf.Tensor {
  if (x.rank <= 2) return tf.sum(x, 0);
  const inner = x.shape.slice(1, -1).map((_, i) => i + 1);
  return tf.sum(tf.sum(x, inner), 0);
}

/** Sum over the last axis (kept), in two stages when it splits evenly. */
function sumLastAxis(x: tf.Tensor): tf.Tensor {
  const d = x.shape[x.rank - 1];
  let a = Math.floor(Math.sqrt(d));
  while (a > 1 && d % a !== 0) a--;
  if (a <= 1) return tf.sum(x, -1, true);
  const split = tf.reshape(x, [...x.shape.slice(0, -1), a, d / a]);
  return tf.sum(tf.sum(split, -1), -1, true);
}

/** Running statistics of one BatchNorm, updated in place in training mode (PyTorch: momentum 0.1, unbiased var). */
export interface BatchNormState {
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}

/** Side effect of a training-mode BatchNorm, as in PyTorch: the running estimates move towards the batch statistics
 * (the variance unbiased). */
function updateRunningStats(bn: BatchNormState, mean: tf.Tensor, variance: tf.Tensor, count: number): void {
  const unbias = count / Math.max(count - 1, 1);
  if (hasFused(FUSED.bnRunningStats)) {
    const inputs = { runningMean: bn.runningMean, runningVar: bn.runningVar, mean, variance };
    const [m1, v1] = tf
      .engine()
      .runKernel(FUSED.bnRunningStats, inputs, { momentum: BN_MOMENTUM, unbias }) as tf.Tensor[];
    bn.runningMean.assign(m1);
    bn.runningVar.assign(v1);
    return;
  }
  const unbiased = tf.mul(variance, unbias);
  bn.runningMean.assign(tf.add(tf.mul(bn.runningMean, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)));
  bn.runningVar.assign(tf.add(tf.mul(bn.runningVar, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
}

/** Training-mode BatchNorm (and the ReLU after it) as two fused native kernels (forward, backward). */
function fusedBatchNorm(x: tf.Tensor, bn: BatchNormState, count: number, relu: boolean): tf.Tensor {
  const attrs = { eps: BN_EPS, relu };
  const op = customOp(([xi, gi, bi], save) => {
    const [y, mean, variance] = tf
      .engine()
      .runKernel(FUSED_NORM.batchNormTrain, { x: xi, gamma: gi, beta: bi }, attrs) as tf.Tensor[];
    updateRunningStats(bn, mean, variance, count);
    save([xi, mean, variance, gi, y]);
    return {
      value: y,
      gradFunc: (dy, [xs, m, v, g, ys]) =>
        tf
          .engine()
          .runKernel(
            FUSED_NORM.batchNormTrainGrad,
            { dy, x: xs, mean: m, variance: v, gamma: g, y: ys },
            attrs,
          ) as tf.Tensor[],
    };
  });
  return op(x, bn.gamma, bn.beta);
}

/**
 * BatchNorm over every axis but the last (channels). Training: batch statistics with the biased variance, closed-form
 * backward (no moments autodiff), running stats updated with the unbiased variance. Eval: running statistics.
 * `relu`: ReLU(BN(x)). On the native backend each mode is one fused kernel (plus one for the backward pass).
 */
export function batchNorm(
  x: tf.Tensor,
  bn: BatchNormState,
  training: boolean,
  opts: { relu?: boolean } = {},
): tf.Tensor {
  const withRelu = opts.relu === true;
  if (!training) {
    const scale = tf.mul(bn.gamma, tf.rsqrt(tf.add(bn.runningVar, BN_EPS)));
    const shift = tf.sub(bn.beta, tf.mul(bn.runningMean, scale));
    if (hasFused(FUSED_NORM.batchNormInfer))
      return tf.engine().runKernel(FUSED_NORM.batchNormInfer, { x, scale, shift }, { relu: withRelu }) as tf.Tensor;
    const y = tf.add(tf.mul(x, scale), shift);
    return withRelu ? tf.relu(y) : y;
  }
  const count = x.size / x.shape[x.rank - 1];
  if (hasFused(FUSED_NORM.batchNormTrain)) return fusedBatchNorm(x, bn, count, withRelu);
  if (withRelu) return tf.relu(batchNorm(x, bn, true));
  const op = customOp(([xi, gi, bi], save) => {
    const mean = tf.div(sumPerChannel(xi), count);
    const centered = tf.sub(xi, mean);
    const variance = tf.div(sumPerChannel(tf.square(centered)), count); // biased, as PyTorch normalises
    const invStd = tf.rsqrt(tf.add(variance, BN_EPS));
    const xhat = tf.mul(centered, invStd);
    updateRunningStats(bn, mean, variance, count);
    save([xhat, invStd, gi]);
    return {
      value: tf.add(tf.mul(xhat, gi), bi),
      gradFunc: (dy, saved) => {
        const [xh, is, g] = saved;
        const dBeta = sumPerChannel(dy);
        const dGamma = sumPerChannel(tf.mul(dy, xh));
        // dx = gamma * invStd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat))
        const inner = tf.sub(tf.sub(tf.mul(dy, count), dBeta), tf.mul(xh, dGamma));
        const dx = tf.mul(inner, tf.div(tf.mul(g, is), count));
        return [dx, dGamma, dBeta];
      },
    };
  });
  return op(x, bn.gamma, bn.beta);
}

/** LayerNorm over the last axis, eps 1e-5, with the closed-form backward. */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  if (hasFused(FUSED_NORM.layerNorm)) return fusedLayerNorm(x, gamma, beta);
  const axis = x.rank - 1;
  const d = x.shape[axis];
  const op = customOp(([xi, gi, bi], save) => {
    const mean = tf.div(sumLastAxis(xi), d);
    const centered = tf.sub(xi, mean);
    const invStd = tf.rsqrt(tf.add(tf.div(sumLastAxis(tf.square(centered)), d), LN_EPS));
    const xhat = tf.mul(centered, invStd);
    save([xhat, invStd, gi]);
    return {
      value: tf.add(tf.mul(xhat, gi), bi),
      gradFunc: (dy, saved) => {
        const [xh, is, g] = saved;
        const rows = x.size / d;
        const dyFlat = tf.reshape(dy, [rows, d]);
        const dGamma = tf.sum(tf.mul(dyFlat, tf.reshape(xh, [rows, d])), 0);
        const dBeta = tf.sum(dyFlat, 0);
        const dxhat = tf.mul(dy, g);
        // dx = invStd / D * (D * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)), sums over the normalised axis
        const inner = tf.sub(tf.sub(tf.mul(dxhat, d), sumLastAxis(dxhat)), tf.mul(xh, sumLastAxis(tf.mul(dxhat, xh))));
        return [tf.mul(inner, tf.div(is, d)), dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta);
}

/** LayerNorm as two fused native kernels on the native backend. */
function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const attrs = { eps: LN_EPS };
  const op = customOp(([xi, gi, bi], save) => {
    const [y, mean, invStd] = tf
      .engine()
      .runKernel(FUSED_NORM.layerNorm, { x: xi, gamma: gi, beta: bi }, attrs) as tf.Tensor[];
    save([xi, mean, invStd, gi]);
    return {
      value: y,
      gradFunc: (dy, [xs, m, is, g]) =>
        tf
          .engine()
          .runKernel(FUSED_NORM.layerNormGrad, { dy, x: xs, mean: m, invStd: is, gamma: g }, {}) as tf.Tensor[],
    };
  });
  return op(x, gamma, beta);
}

/** ReLU; on the native backend its backward pass is one fused kernel instead of tfjs' Step, Cast and Multiply. */
export function relu<T extends tf.Tensor>(x: T): T {
  if (!hasFused(FUSED.reluGrad)) return tf.relu(x);
  const op = customOp(([xi], save) => {
    const y = tf.relu(xi);
    save([y]);
    return {
      value: y,
      gradFunc: (dy, [ys]) => [tf.engine().runKernel(FUSED.reluGrad, { dy, y: ys }, {}) as tf.Tensor],
    };
  });
  return op(x) as T;
}

/** max(a + b, 0) for two tensors of one shape (a residual connection); one fused kernel each way on native. */
export function addRelu(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (!hasFused(FUSED.addRelu)) return tf.relu(tf.add(a, b));
  const op = customOp(([ai, bi], save) => {
    const y = tf.engine().runKernel(FUSED.addRelu, { a: ai, b: bi }, {}) as tf.Tensor;
    save([y]);
    return {
      value: y,
      gradFunc: (dy, [ys]) => {
        const dz = tf.engine().runKernel(FUSED.reluGrad, { dy, y: ys }, {}) as tf.Tensor;
        return [dz, tf.clone(dz)];
      },
    };
  });
  return op(a, b);
}

/** GELU, tanh approximation (the official code's own GELU class); one fused kernel each way on native. */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (hasFused(FUSED.gelu)) {
    const op = customOp(([xi], save) => {
      save([xi]);
      return {
        value: tf.engine().runKernel(FUSED.gelu, { x: xi }, {}) as tf.Tensor,
        gradFunc: (dy, [xs]) => [tf.engine().runKernel(FUSED.geluGrad, { dy, x: xs }, {}) as tf.Tensor],
      };
    });
    return op(x);
  }
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
}

/** y = x W (+ b) over the last axis; W stored (in, out). One tape entry with the matmul gradients written out
 * (dx = dy W^T, dW = x^T dy, db = column sums of dy), instead of reshape, matmul, add and reshape each taped. */
export function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const [din, dout] = w.shape;
  const xShape = x.shape;
  const op = customOp(([xi, wi, bi], save) => {
    const x2 = tf.reshape(xi, [-1, din]) as tf.Tensor2D;
    save([x2, wi]);
    const y = tf.matMul(x2, wi as tf.Tensor2D);
    return {
      value: tf.reshape(bi ? tf.add(y, bi) : y, [...xShape.slice(0, -1), dout]),
      gradFunc: (dy, [xs, ws]) => {
        const dy2 = tf.reshape(dy, [-1, dout]) as tf.Tensor2D;
        const grads = [
          tf.reshape(tf.matMul(dy2, ws as tf.Tensor2D, false, true), xShape),
          tf.matMul(xs as tf.Tensor2D, dy2, true, false),
        ];
        return bi ? [...grads, tf.sum(dy2, 0)] : grads;
      },
    };
  });
  return b ? op(x, w, b) : op(x, w);
}
