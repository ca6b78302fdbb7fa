// Placeholder: the pool kernels are being written (see native/src/pool.cc).
import type { NativeKernel } from './util.js';

export const poolKernels: NativeKernel[] = [];
