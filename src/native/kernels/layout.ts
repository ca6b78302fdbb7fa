// Placeholder: the layout kernels are being written (see native/src/layout.cc).
import type { NativeKernel } from './util.js';

export const layoutKernels: NativeKernel[] = [];
