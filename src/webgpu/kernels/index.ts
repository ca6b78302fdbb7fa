// dfer's kernels for the WebGPU backend: replacements for stock kernels that are wrong for this network, and fused
// kernels where the stock sequence is slow. Each is tested against the cpu backend (test/webgpu).
import { registerMatMul } from './matmul.js';
import { registerMaxPoolGrad } from './maxpool-grad.js';
import { registerPad } from './pad.js';

export function registerWebGpuKernels(backendName: string): void {
  registerPad(backendName);
  registerMaxPoolGrad(backendName);
  registerMatMul(backendName);
}
