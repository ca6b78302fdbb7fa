// Placeholder: the reduce kernels are being written (see native/src/reduce.cc).
import type { NativeKernel } from './util.js';

export const reduceKernels: NativeKernel[] = [];
