// The native engine's fused kernels (native/src/fused.cc), implementing src/fused.ts' FUSED: the ReLU backward pass, a
// residual add with its ReLU, the SGD-with-momentum update, BatchNorm's running statistics and the tanh-approximated
// GELU with its gradient.
import { FUSED } from '../../fused.js';
import type { NativeAddon } from '../addon.js';
import { alloc, f32sOrThrow, output, type NativeKernel, type NativeKernelArgs } from './util.js';

/** inputs dy, y (the ReLU's output); output dx. */
function reluGrad(addon: NativeAddon, { inputs, backend }: NativeKernelArgs) {
  const { dy, y } = inputs;
  const vals = f32sOrThrow(backend, [dy, y], FUSED.reluGrad);
  const dx = alloc(backend, vals[0].length);
  addon.reluGrad(dx, ...vals);
  return output(backend, dy.shape, dx);
}

/** inputs runningMean, runningVar, mean, variance (per channel); attrs momentum, unbias (count / (count - 1));
 * outputs the new running mean and variance. */
function bnRunningStats(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { runningMean, runningVar, mean, variance } = inputs;
  const vals = f32sOrThrow(backend, [runningMean, runningVar, mean, variance], FUSED.bnRunningStats);
  const [m1, v1] = [alloc(backend, vals[0].length), alloc(backend, vals[0].length)];
  addon.bnRunningStats(m1, v1, ...vals, attrs.momentum, attrs.unbias);
  return [output(backend, runningMean.shape, m1), output(backend, runningVar.shape, v1)];
}

/** input x; output GELU(x), tanh approximation. */
function gelu(addon: NativeAddon, { inputs, backend }: NativeKernelArgs) {
  const [x] = f32sOrThrow(backend, [inputs.x], FUSED.gelu);
  const y = alloc(backend, x.length);
  addon.gelu(y, x);
  return output(backend, inputs.x.shape, y);
}

/** inputs dy, x (the GELU's input); output dx. */
function geluGrad(addon: NativeAddon, { inputs, backend }: NativeKernelArgs) {
  const { dy, x } = inputs;
  const vals = f32sOrThrow(backend, [dy, x], FUSED.geluGrad);
  const dx = alloc(backend, vals[0].length);
  addon.geluGrad(dx, ...vals);
  return output(backend, dy.shape, dx);
}

/** inputs a, b of the same shape; output max(a + b, 0). */
function addRelu(addon: NativeAddon, { inputs, backend }: NativeKernelArgs) {
  const { a, b } = inputs;
  const vals = f32sOrThrow(backend, [a, b], FUSED.addRelu);
  if (a.shape.join() !== b.shape.join()) throw new Error(`${FUSED.addRelu}: shapes differ (${a.shape} vs ${b.shape})`);
  const y = alloc(backend, vals[0].length);
  addon.addRelu(y, ...vals);
  return output(backend, a.shape, y);
}

/** inputs param, grad and (optional) buf; attrs lr, momentum, weightDecay; outputs the new param and buf. */
function sgdMomentum(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { param, grad, buf } = inputs;
  const [p, g] = f32sOrThrow(backend, [param, grad], FUSED.sgdMomentum);
  const b = buf ? f32sOrThrow(backend, [buf], FUSED.sgdMomentum)[0] : p; // ignored when there is no buffer yet
  const [p1, b1] = [alloc(backend, p.length), alloc(backend, p.length)];
  addon.sgdMomentum(p1, b1, p, b, g, attrs.lr, attrs.momentum, attrs.weightDecay, buf !== undefined);
  return [output(backend, param.shape, p1), output(backend, param.shape, b1)];
}

export const fusedKernels: NativeKernel[] = [
  { name: FUSED.reluGrad, run: reluGrad },
  { name: FUSED.addRelu, run: addRelu },
  { name: FUSED.sgdMomentum, run: sgdMomentum },
  { name: FUSED.bnRunningStats, run: bnRunningStats },
  { name: FUSED.gelu, run: gelu },
  { name: FUSED.geluGrad, run: geluGrad },
];
