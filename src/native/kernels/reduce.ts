// Reductions (native/src/reduce.cc): Sum, Mean, Max, Min, Prod over any axes (number or list, negative allowed,
// keepDims), and Softmax over the last axis; float32 only, other dtypes fall back to the cpu kernels. Sums accumulate
// in double as the cpu kernels do.
//
// The axes reach C++ as a merged layout: x's shape without its size-1 axes, adjacent axes merged when both are
// reduced or both kept, and a flag per merged axis. Summing [N, H, W, C] over [0, 1, 2] is dims [N*H*W, C] with flags
// [1, 0]; over [1, 2] it is [N, H*W, C] with [0, 1, 0]. The output holds the kept axes in order, which is also the
// layout of tfjs' result (it transposes the reduced axes innermost, keeping the others in order).
import { backend_util, util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../addon.js';
import { alloc, f32, output, sizeOf, type NativeKernel, type NativeKernelArgs } from './util.js';

/** Reduce op codes of native/src/reduce.cc. */
const REDUCE = { Sum: 0, Mean: 1, Max: 2, Min: 3, Prod: 4 } as const;

export interface ReduceLayout {
  dims: number[];
  reduced: number[];
}

/** The merged layout of reducing `shape` over `axes` (non-negative, see the header). Exported for the tests. */
export function reduceLayout(shape: readonly number[], axes: readonly number[]): ReduceLayout {
  const dims: number[] = [];
  const reduced: number[] = [];
  shape.forEach((size, k) => {
    if (size === 1) return;
    const r = axes.includes(k) ? 1 : 0;
    if (reduced.length > 0 && reduced[reduced.length - 1] === r) dims[dims.length - 1] *= size;
    else {
      dims.push(size);
      reduced.push(r);
    }
  });
  return { dims, reduced };
}

function reduce(op: number, axisAttr: 'axis' | 'reductionIndices') {
  return (addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs): TensorInfo | null => {
    const { x } = inputs;
    const values = f32(backend, x);
    if (!values || values.length === 0) return null;
    const axes = util.parseAxisParam(attrs[axisAttr] as number | number[], x.shape);
    if (axes.length === 0) return null; // an identity: the cpu kernel's copy is as good
    const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const { dims, reduced } = reduceLayout(x.shape, axes);
    const out = alloc(backend, sizeOf(outShape));
    addon.reduce(out, values, op, dims, reduced);
    const shape = attrs.keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    return output(backend, shape, out);
  };
}

function softmax(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs): TensorInfo | null {
  const { logits } = inputs;
  const values = f32(backend, logits);
  const rank = logits.shape.length;
  const dim = attrs.dim as number;
  if (!values || values.length === 0 || rank === 0) return null;
  if (dim !== -1 && dim !== rank - 1) return null; // the cpu kernel raises its own error
  const d = logits.shape[rank - 1];
  const out = alloc(backend, values.length);
  addon.softmax(out, values, values.length / d, d);
  return output(backend, logits.shape, out);
}

export const reduceKernels: NativeKernel[] = [
  { name: 'Sum', run: reduce(REDUCE.Sum, 'axis') },
  { name: 'Mean', run: reduce(REDUCE.Mean, 'axis') },
  { name: 'Max', run: reduce(REDUCE.Max, 'reductionIndices') },
  { name: 'Min', run: reduce(REDUCE.Min, 'axis') },
  { name: 'Prod', run: reduce(REDUCE.Prod, 'axis') },
  { name: 'Softmax', run: softmax },
];
