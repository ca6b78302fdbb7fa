// Placeholder: the elementwise kernels are being written (see native/src/elementwise.cc).
import type { NativeKernel } from './util.js';

export const elementwiseKernels: NativeKernel[] = [];
