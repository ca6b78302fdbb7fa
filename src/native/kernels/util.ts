// What every native kernel needs: typed access to the cpu backend's buffers and a way to fall back to the stock
// kernel for the cases the native code does not cover (other dtypes, exotic attributes).
import type { KernelFunc, TensorInfo, NamedAttrMap } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from '../addon.js';
import { PooledCpuBackend } from '../memory.js';

export interface NativeKernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: MathBackendCPU;
  attrs: NamedAttrMap;
}

/** A native kernel: returns null to let the stock cpu kernel handle the call. */
export interface NativeKernel {
  name: string;
  run: (addon: NativeAddon, args: NativeKernelArgs) => TensorInfo | TensorInfo[] | null;
}

export type { KernelFunc, TensorInfo };

/** The float32 values of a tensor (the backend's own buffer, not a copy); null for any other dtype. */
export function f32(backend: MathBackendCPU, t: TensorInfo): Float32Array | null {
  if (t.dtype !== 'float32') return null;
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array ? values : null;
}

/** The float32 values of every tensor, or null if any of them is not float32. */
export function f32s(backend: MathBackendCPU, ts: TensorInfo[]): Float32Array[] | null {
  const out: Float32Array[] = [];
  for (const t of ts) {
    const v = f32(backend, t);
    if (!v) return null;
    out.push(v);
  }
  return out;
}

/** An output buffer of n float32 values with arbitrary contents (recycled on the native backend, see memory.ts):
 * the kernel must write every element. */
export function alloc(backend: MathBackendCPU, n: number): Float32Array {
  return backend instanceof PooledCpuBackend ? backend.alloc(n) : new Float32Array(n);
}

/** An output buffer of n zeros. */
export function allocZeroed(backend: MathBackendCPU, n: number): Float32Array {
  return backend instanceof PooledCpuBackend ? backend.allocZeroed(n) : new Float32Array(n);
}

/** f32s for kernels that have no cpu counterpart to fall back to: anything but float32 is an error. */
export function f32sOrThrow(backend: MathBackendCPU, ts: TensorInfo[], kernel: string): Float32Array[] {
  const values = f32s(backend, ts);
  if (!values) throw new Error(`${kernel}: the native kernel takes float32 inputs only`);
  return values;
}

/** A new float32 tensor of the backend owning `values`. */
export function output(backend: MathBackendCPU, shape: number[], values: Float32Array): TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', values);
}

export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
