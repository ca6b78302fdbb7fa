// Fused BatchNorm and LayerNorm (native/src/norm.cc), the native engine's implementations of src/fused.ts' FUSED_NORM;
// src/model/ops.ts calls them through the engine where the backend has them. Normalised axis:
// the last one (channels for BatchNorm over NHWC rows, features for LayerNorm).
import { FUSED_NORM } from '../../fused.js';
import type { NativeAddon } from '../addon.js';
import { alloc, f32sOrThrow, output, sizeOf, type NativeKernel, type NativeKernelArgs } from './util.js';

const rowsOf = (shape: number[]) => {
  const c = shape[shape.length - 1];
  return { rows: sizeOf(shape) / c, c };
};

/** inputs x, scale, shift (folded from the running statistics); attr relu; output x * scale + shift (ReLU'd). */
function batchNormInfer(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { x, scale, shift } = inputs;
  const [xv, sv, tv] = f32sOrThrow(backend, [x, scale, shift], FUSED_NORM.batchNormInfer);
  const { rows, c } = rowsOf(x.shape);
  const y = alloc(backend, xv.length);
  addon.batchNormInfer(y, xv, sv, tv, rows, c, attrs.relu === true);
  return output(backend, x.shape, y);
}

/** inputs x, gamma, beta; attrs eps, relu; outputs y (ReLU'd when asked), batch mean, biased batch variance. */
function batchNormTrain(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { x, gamma, beta } = inputs;
  const [xv, gv, bv] = f32sOrThrow(backend, [x, gamma, beta], FUSED_NORM.batchNormTrain);
  const { rows, c } = rowsOf(x.shape);
  const [y, mean, variance] = [alloc(backend, xv.length), alloc(backend, c), alloc(backend, c)];
  addon.batchNormTrain(y, mean, variance, xv, gv, bv, rows, c, attrs.eps as number, attrs.relu === true);
  return [output(backend, x.shape, y), output(backend, [c], mean), output(backend, [c], variance)];
}

/** inputs dy, x, mean, variance, gamma, y (the forward output, for the ReLU mask); attrs eps, relu;
 * outputs dx, dgamma, dbeta. */
function batchNormTrainGrad(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { dy, x, mean, variance, gamma, y } = inputs;
  const vals = f32sOrThrow(backend, [dy, x, mean, variance, gamma, y], FUSED_NORM.batchNormTrainGrad);
  const { rows, c } = rowsOf(x.shape);
  const [dx, dgamma, dbeta] = [alloc(backend, vals[1].length), alloc(backend, c), alloc(backend, c)];
  addon.batchNormTrainGrad(dx, dgamma, dbeta, ...vals, rows, c, attrs.eps as number, attrs.relu === true);
  return [output(backend, x.shape, dx), output(backend, [c], dgamma), output(backend, [c], dbeta)];
}

/** inputs x, gamma, beta; outputs y, per-row mean and 1/std (shape x.shape without its last axis). */
function layerNorm(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { x, gamma, beta } = inputs;
  const [xv, gv, bv] = f32sOrThrow(backend, [x, gamma, beta], FUSED_NORM.layerNorm);
  const { rows, c } = rowsOf(x.shape);
  const [y, mean, invStd] = [alloc(backend, xv.length), alloc(backend, rows), alloc(backend, rows)];
  addon.layerNorm(y, mean, invStd, xv, gv, bv, rows, c, attrs.eps as number);
  const rowShape = x.shape.slice(0, -1);
  return [output(backend, x.shape, y), output(backend, rowShape, mean), output(backend, rowShape, invStd)];
}

/** inputs dy, x, mean, invStd, gamma; outputs dx, dgamma, dbeta. */
function layerNormGrad(addon: NativeAddon, { inputs, backend }: NativeKernelArgs) {
  const { dy, x, mean, invStd, gamma } = inputs;
  const vals = f32sOrThrow(backend, [dy, x, mean, invStd, gamma], FUSED_NORM.layerNormGrad);
  const { rows, c } = rowsOf(x.shape);
  const [dx, dgamma, dbeta] = [alloc(backend, vals[1].length), alloc(backend, c), alloc(backend, c)];
  addon.layerNormGrad(dx, dgamma, dbeta, ...vals, rows, c);
  return [output(backend, x.shape, dx), output(backend, [c], dgamma), output(backend, [c], dbeta)];
}

export const normKernels: NativeKernel[] = [
  { name: FUSED_NORM.batchNormInfer, run: batchNormInfer },
  { name: FUSED_NORM.batchNormTrain, run: batchNormTrain },
  { name: FUSED_NORM.batchNormTrainGrad, run: batchNormTrainGrad },
  { name: FUSED_NORM.layerNorm, run: layerNorm },
  { name: FUSED_NORM.layerNormGrad, run: layerNormGrad },
];
