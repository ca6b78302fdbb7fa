// Conv2D and its two gradients on oneDNN (native/src/conv.cc), NHWC only; NCHW falls back to the cpu kernel.
import { backend_util, type Tensor4D } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../addon.js';
import { alloc, f32s, output, sizeOf, type NativeKernel, type NativeKernelArgs } from './util.js';

type Conv2DInfo = backend_util.Conv2DInfo;
type Attrs = {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

/** The 17 geometry integers native/src/conv.cc expects after its buffers. */
function geometry(c: Conv2DInfo): number[] {
  const p = c.padInfo;
  return [
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.outHeight,
    c.outWidth,
    c.outChannels,
    c.filterHeight,
    c.filterWidth,
    c.strideHeight,
    c.strideWidth,
    c.dilationHeight,
    c.dilationWidth,
    p.top,
    p.left,
    p.bottom,
    p.right,
  ];
}

function info(xShape: number[], filterShape: number[], a: Attrs): Conv2DInfo | null {
  if ((a.dataFormat ?? 'NHWC') !== 'NHWC') return null;
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    false,
    'channelsLast',
  );
}

function conv2d(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { x, filter } = inputs;
  const bufs = f32s(backend, [x, filter]);
  const c = info(x.shape, filter.shape, attrs as unknown as Attrs);
  if (!bufs || !c) return null;
  const y = alloc(backend, sizeOf(c.outShape));
  addon.conv2d(y, ...bufs, ...geometry(c));
  return output(backend, c.outShape, y);
}

function conv2dBackpropInput(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { dy, filter } = inputs;
  const a = attrs as unknown as Attrs & { inputShape: Tensor4D['shape'] };
  const bufs = f32s(backend, [dy, filter]);
  const c = info(a.inputShape, filter.shape, a);
  if (!bufs || !c) return null;
  const dx = alloc(backend, sizeOf(a.inputShape));
  addon.conv2dBackpropInput(dx, ...bufs, ...geometry(c));
  return output(backend, a.inputShape, dx);
}

function conv2dBackpropFilter(addon: NativeAddon, { inputs, backend, attrs }: NativeKernelArgs) {
  const { x, dy } = inputs;
  const a = attrs as unknown as Attrs & { filterShape: Tensor4D['shape'] };
  const bufs = f32s(backend, [x, dy]);
  const c = info(x.shape, a.filterShape, a);
  if (!bufs || !c) return null;
  const dw = alloc(backend, sizeOf(a.filterShape));
  addon.conv2dBackpropFilter(dw, ...bufs, ...geometry(c));
  return output(backend, a.filterShape, dw);
}

export const convKernels: NativeKernel[] = [
  { name: 'Conv2D', run: conv2d },
  { name: 'Conv2DBackpropInput', run: conv2dBackpropInput },
  { name: 'Conv2DBackpropFilter', run: conv2dBackpropFilter },
];
