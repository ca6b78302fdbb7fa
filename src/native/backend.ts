// The `native` tfjs backend: tfjs' own cpu backend (tensors are plain Float32Arrays outside the wasm heap, so no
// 4 GB ceiling) with every expensive kernel replaced by a multi-threaded native one (native/src, oneDNN + OpenMP),
// and output buffers recycled (memory.ts).
// Kernels without a native version, and native kernels asked for a case they do not cover (say int32 inputs), run
// the stock cpu code, so the backend is always complete.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu'; // registers the cpu kernels this backend inherits
import { nativeAddon } from './addon.js';
import { PooledCpuBackend } from './memory.js';
import { NATIVE_KERNELS } from './kernels/index.js';
import type { NativeKernelArgs } from './kernels/util.js';

export const NATIVE_BACKEND = 'native';

let registered = false;

/** Register the `native` backend once, when the addon loads; returns whether it is registered. */
export function registerNativeBackend(): boolean {
  if (registered) return true;
  const addon = nativeAddon();
  if (!addon) return false;
  tf.registerBackend(NATIVE_BACKEND, () => new PooledCpuBackend(), 0);
  const stock = new Map(tf.getKernelsForBackend('cpu').map((k) => [k.kernelName, k]));
  const overridden = new Set(NATIVE_KERNELS.map((k) => k.name));
  for (const k of stock.values())
    if (!overridden.has(k.kernelName)) tf.registerKernel({ ...k, backendName: NATIVE_BACKEND });
  for (const k of NATIVE_KERNELS) {
    const fallback = stock.get(k.name)?.kernelFunc;
    tf.registerKernel({
      kernelName: k.name,
      backendName: NATIVE_BACKEND,
      kernelFunc: (args) => {
        const result = k.run(addon, args as unknown as NativeKernelArgs);
        if (result) return result;
        if (!fallback) throw new Error(`native ${k.name}: unsupported case and no cpu kernel to fall back to`);
        return fallback(args);
      },
    });
  }
  registered = true;
  return true;
}

/** Names of the kernels that run natively (for `dfer doctor` and the profile). */
