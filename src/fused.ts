// dfer's fused kernels: one kernel name per fused computation, implemented per backend (the native engine in
// native/src, WebGPU in src/webgpu/kernels/fused.ts, JavaScript references for the cpu backend beside the latter).
// The model's ops (src/model/ops.ts) and the optimiser ask `hasFused(name)` (src/backend.ts) and fall back to tfjs'
// composite ops where the backend lacks one.

/** Elementwise and per-parameter fused kernels. */
export const FUSED = {
  /** inputs dy, y (the ReLU's output); output dx. */
  reluGrad: 'DferReluGrad',
  /** inputs a, b of the same shape; output max(a + b, 0). */
  addRelu: 'DferAddRelu',
  /** inputs param, grad, (buf); attrs lr, momentum, weightDecay; outputs the new param and buf (torch.optim.SGD). */
  sgdMomentum: 'DferSgdMomentum',
  /** inputs runningMean, runningVar, mean, variance; attrs momentum, unbias; outputs the new running statistics. */
  bnRunningStats: 'DferBnRunningStats',
  /** input x; output GELU(x), tanh approximation. */
  gelu: 'DferGelu',
  /** inputs dy, x (the GELU's input); output dx. */
  geluGrad: 'DferGeluGrad',
} as const;

/** Normalisation kernels (per channel: the last axis). */
export const FUSED_NORM = {
  /** inputs x, scale, shift (per channel); attr relu; output x * scale + shift (then ReLU). */
  batchNormInfer: 'DferBatchNormInfer',
  batchNormTrain: 'DferBatchNormTrain',
  batchNormTrainGrad: 'DferBatchNormTrainGrad',
  layerNorm: 'DferLayerNorm',
  layerNormGrad: 'DferLayerNormGrad',
} as const;
