// Every native kernel, by family. A family is one file here and one file in native/src.
import { convKernels } from './conv.js';
import { elementwiseKernels } from './elementwise.js';
import { fusedKernels } from './fused.js';
import { layoutKernels } from './layout.js';
import { matmulKernels } from './matmul.js';
import { normKernels } from './norm.js';
import { poolKernels } from './pool.js';
import { reduceKernels } from './reduce.js';
import type { NativeKernel } from './util.js';

export const NATIVE_KERNELS: NativeKernel[] = [
  ...convKernels,
  ...matmulKernels,
  ...elementwiseKernels,
  ...reduceKernels,
  ...layoutKernels,
  ...poolKernels,
  ...normKernels,
  ...fusedKernels,
];
