// 2-D max and average pooling and their gradients (native/src/pool.cc): float32, NHWC, the geometry of tfjs' own
// computePool2DInfo (padding 'same', 'valid', numbers or explicit, dimRoundingMode), results equal to the cpu kernels.
// Other dtypes, and the 1x1 pools the cpu kernel answers with the input itself, fall back to the cpu kernels.
import { backend_util, util } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../addon.js';
import { alloc, f32, f32s, output, sizeOf, type NativeKernel, type NativeKernelArgs } from './util.js';

type Pool2DInfo = backend_util.Conv2DInfo;
type Attrs = {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

/** The 12 geometry integers native/src/pool.cc expects after its buffers. */
function geometry(c: Pool2DInfo): number[] {
  return [
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.outHeight,
    c.outWidth,
    c.effectiveFilterHeight,
    c.effectiveFilterWidth,
    c.strideHeight,
    c.strideWidth,
    c.padInfo.top,
    c.padInfo.left,
  ];
}

/** tfjs' pooling geometry for x (the cpu kernels use dilation 1); null when not a plain NHWC float32 pool. */
function info(shape: number[], a: Attrs, rounding: boolean): Pool2DInfo | null {
  if (shape.length !== 4) return null;
  const c = backend_util.computePool2DInfo(
    shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    rounding ? a.dimRoundingMode : undefined,
  );
  if (c.dilationHeight !== 1 || c.dilationWidth !== 1 || sizeOf(c.outShape) === 0 || sizeOf(c.inShape) === 0)
    return null;
  return c;
}

/** The cpu kernel returns x itself for a 1x1 window that keeps the shape. */
const isIdentity = (c: Pool2DInfo) =>
  c.filterHeight === 1 && c.filterWidth === 1 && util.arraysEqual(c.inShape, c.outShape);

function forward(kind: 'maxPool' | 'avgPool') {
  return (addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) => {
    const { x } = inputs;
    const xv = f32(backend, x);
    const c = xv && info(x.shape, attrs as unknown as Attrs, true);
    if (!xv || !c || isIdentity(c)) return null;
    const y = alloc(backend, sizeOf(c.outShape));
    addon[kind](y, xv, ...geometry(c));
    return output(backend, c.outShape, y);
  };
}

function maxPoolGrad(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { dy, input } = inputs;
  const bufs = f32s(backend, [dy, input]);
  const c = bufs && info(input.shape, attrs as unknown as Attrs, true);
  if (!bufs || !c || !util.arraysEqual(dy.shape, c.outShape)) return null;
  const dx = alloc(backend, sizeOf(input.shape));
  addon.maxPoolGrad(dx, ...bufs, ...geometry(c));
  return output(backend, input.shape, dx);
}

// The cpu kernel computes this geometry without dimRoundingMode; so does this one.
function avgPoolGrad(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { dy, input } = inputs;
  const g = f32(backend, dy);
  const c = g && input.dtype === 'float32' ? info(input.shape, attrs as unknown as Attrs, false) : null;
  if (!g || !c || !util.arraysEqual(dy.shape, c.outShape)) return null;
  const dx = alloc(backend, sizeOf(input.shape));
  addon.avgPoolGrad(dx, g, ...geometry(c));
  return output(backend, input.shape, dx);
}

export const poolKernels: NativeKernel[] = [
  { name: 'MaxPool', run: forward('maxPool') },
  { name: 'AvgPool', run: forward('avgPool') },
  { name: 'MaxPoolGrad', run: maxPoolGrad },
  { name: 'AvgPoolGrad', run: avgPoolGrad },
];
