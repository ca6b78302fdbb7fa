// The small surface of tfjs-backend-webgpu that dfer's kernels use: a program is WGSL for `fn main(index : i32)`
// over a flat output (one invocation per output element); the backend adds the bindings, the uniforms (each input's
// `<name>Shape`, `outShape`, `size`), the getters (`getX(b, r, c, d)`) and `setOutputAtIndex`.
import type * as tf from '@tensorflow/tfjs-core';
import { webgpu_util } from '@tensorflow/tfjs-backend-webgpu';

export interface FlatProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms?: string;
  size: true;
  getUserCode(): string;
}

export type Uniform = { type: 'int32' | 'float32'; data: number[] };

export interface WebGpuBackendLike extends tf.KernelBackend {
  runWebGPUProgram(
    program: FlatProgram,
    inputs: tf.TensorInfo[],
    dtype: tf.DataType,
    uniforms?: Uniform[],
  ): tf.TensorInfo;
}

/** A program with one invocation per output element, 64 to a workgroup. */
export function flatProgram(o: {
  key: string;
  inputs: string[];
  outputShape: number[];
  uniforms?: string;
  body: string;
}): FlatProgram {
  const layout = webgpu_util.flatDispatchLayout(o.outputShape);
  const workgroupSize: [number, number, number] = [64, 1, 1];
  return {
    variableNames: o.inputs,
    outputShape: o.outputShape,
    shaderKey: o.key,
    dispatchLayout: layout,
    dispatch: webgpu_util.computeDispatch(layout, o.outputShape, workgroupSize) as [number, number, number],
    workgroupSize,
    ...(o.uniforms ? { uniforms: o.uniforms } : {}),
    size: true,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${o.body}
        }
      }`,
  };
}
