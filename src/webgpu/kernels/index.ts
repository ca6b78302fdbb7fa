// dfer's kernels for the WebGPU backend: replacements for stock kernels that are wrong for this network, and fused
// kernels where the stock sequence is slow. Each is tested against the cpu backend (test/webgpu).
import { registerFused } from './fused.js';
import { registerMatMul } from './matmul.js';
import { registerMaxPoolGrad } from './maxpool-grad.js';
import { registerPad } from './pad.js';

export function registerWebGpuKernels(backendName: string): void {
  // For comparisons only: the stock kernels, wrong ones included (the kernel tests fail with this set).
  if (process.env.DFER_WEBGPU_STOCK_KERNELS === '1') return;
  registerPad(backendName);
  registerMaxPoolGrad(backendName);
  registerMatMul(backendName);
  registerFused(backendName);
}
