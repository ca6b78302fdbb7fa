// MaxPoolGrad on WebGPU with PyTorch's (and tfjs-cpu's) tie rule: the gradient of a window goes to its FIRST maximum
// in row-major order. The stock kernel gives it to the last, and ties are everywhere in this network: the stem's
// max-pool reads ReLU outputs, so every all-zero window is a tie. With the stock kernel the stem's gradients were
// 36% off the official code's.
//
// One gather pass: each input element visits the windows that contain it, finds each window's first maximum again
// and sums dy over the windows that chose it. No atomics, deterministic.
import * as tf from '@tensorflow/tfjs-core';
import { flatProgram, type WebGpuBackendLike } from './program.js';

export function registerMaxPoolGrad(backendName: string): void {
  tf.unregisterKernel(tf.MaxPoolGrad, backendName);
  tf.registerKernel({
    kernelName: tf.MaxPoolGrad,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
      const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
      const info = tf.backend_util.computePool2DInfo(
        input.shape as [number, number, number, number],
        filterSize,
        strides,
        1,
        pad,
        dimRoundingMode,
      );
      const program = flatProgram({
        key: 'dferMaxPoolGradFirstMax',
        inputs: ['dy', 'x'],
        outputShape: info.inShape,
        uniforms: 'strides : vec2<i32>, pads : vec2<i32>, window : vec2<i32>,',
        body: `
          let coords = getCoordsFromIndex(index);
          let b = coords[0];
          let r = coords[1];
          let c = coords[2];
          let d = coords[3];
          let outH = uniforms.dyShape[1];
          let outW = uniforms.dyShape[2];
          let inH = uniforms.xShape[1];
          let inW = uniforms.xShape[2];
          // Windows oy with oy*s - pad <= r <= oy*s - pad + f - 1.
          let oyLo = max((r + uniforms.pads.x - uniforms.window.x + uniforms.strides.x) / uniforms.strides.x, 0);
          let oyHi = min((r + uniforms.pads.x) / uniforms.strides.x, outH - 1);
          let oxLo = max((c + uniforms.pads.y - uniforms.window.y + uniforms.strides.y) / uniforms.strides.y, 0);
          let oxHi = min((c + uniforms.pads.y) / uniforms.strides.y, outW - 1);
          var total = 0.0;
          for (var oy = oyLo; oy <= oyHi; oy++) {
            for (var ox = oxLo; ox <= oxHi; ox++) {
              let r0 = oy * uniforms.strides.x - uniforms.pads.x;
              let c0 = ox * uniforms.strides.y - uniforms.pads.y;
              var best = 0.0;
              var bestR = -1;
              var bestC = -1;
              for (var wr = 0; wr < uniforms.window.x; wr++) {
                let xr = r0 + wr;
                if (xr < 0 || xr >= inH) { continue; }
                for (var wc = 0; wc < uniforms.window.y; wc++) {
                  let xc = c0 + wc;
                  if (xc < 0 || xc >= inW) { continue; }
                  let v = getX(b, xr, xc, d);
                  if (bestR < 0 || v > best) {
                    best = v;
                    bestR = xr;
                    bestC = xc;
                  }
                }
              }
              if (bestR == r && bestC == c) {
                total += getDy(b, oy, ox, d);
              }
            }
          }
          setOutputAtIndex(index, total);`,
      });
      const uniforms = [
        { type: 'int32' as const, data: [info.strideHeight, info.strideWidth] },
        { type: 'int32' as const, data: [info.padInfo.top, info.padInfo.left] },
        { type: 'int32' as const, data: [info.filterHeight, info.filterWidth] },
      ];
      return (backend as WebGpuBackendLike).runWebGPUProgram(program, [dy, input], input.dtype, uniforms);
    },
  });
}
