// Every native kernel, by family. A family is one file here and one file in native/src.
import { convKernels } from './conv.js';
import { matmulKernels } from './matmul.js';
import type { NativeKernel } from './util.js';

export const NATIVE_KERNELS: NativeKernel[] = [...convKernels, ...matmulKernels];
