// dfer's fused kernels (src/fused.ts) on WebGPU, the elementwise ones: each is one dispatch over the tensor where the
// composite ops take several (GELU ~10 forward and ~20 backward, the SGD step 6 per parameter, ReLU's gradient 3).
// BatchNorm and LayerNorm in training keep tfjs' composite path here (their reductions are tfjs' own Sum kernels).
//
// Each kernel also has a JavaScript reference registered for the cpu backend: the WebGPU kernel census records along
// WebGPU's op path on a CPU backend, and the tests compare each WGSL kernel with its reference.
import * as tf from '@tensorflow/tfjs-core';
import { FUSED, FUSED_NORM } from '../../fused.js';
import { flatProgram, type Uniform, type WebGpuBackendLike } from './program.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;

// tanh(u) as 1 - 2 / (exp(2u) + 1), with u clamped where tanh is +-1 in float32: WGSL's tanh overflows to NaN for
// large |u| on some drivers.
const WGSL_TANH = `fn dferTanh(u : f32) -> f32 {
  let v = clamp(u, -15.0, 15.0);
  return 1.0 - 2.0 / (exp(2.0 * v) + 1.0);
}`;

type Inputs = Record<string, tf.TensorInfo>;
type KernelArgs = { inputs: Inputs; backend: WebGpuBackendLike; attrs: Record<string, unknown> };

const f32 = (...data: number[]): Uniform => ({ type: 'float32', data });

/** One flat elementwise program: `body` sets `setOutputAtIndex(index, ...)` from the `get<Name>ByOutputIndex` getters. */
function elementwise(
  backend: WebGpuBackendLike,
  key: string,
  inputs: Array<[string, tf.TensorInfo]>,
  shape: number[],
  body: string,
  uniforms?: { decl: string; data: Uniform[] },
  helpers = '',
) {
  const program = flatProgram({
    key,
    inputs: inputs.map(([n]) => n),
    outputShape: shape,
    uniforms: uniforms?.decl,
    body,
  });
  if (helpers) {
    const user = program.getUserCode;
    program.getUserCode = () => `${helpers}\n${user()}`;
  }
  return backend.runWebGPUProgram(
    program,
    inputs.map(([, t]) => t),
    'float32',
    uniforms?.data,
  );
}

const GPU_KERNELS: Record<string, (a: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]> = {
  [FUSED.reluGrad]: ({ inputs: { dy, y }, backend }) =>
    elementwise(
      backend,
      'dferReluGrad',
      [
        ['dy', dy],
        ['y', y],
      ],
      dy.shape,
      `setOutputAtIndex(index, select(0.0, getDyByOutputIndex(index), getYByOutputIndex(index) > 0.0));`,
    ),

  [FUSED.addRelu]: ({ inputs: { a, b }, backend }) =>
    elementwise(
      backend,
      'dferAddRelu',
      [
        ['a', a],
        ['b', b],
      ],
      a.shape,
      `setOutputAtIndex(index, max(getAByOutputIndex(index) + getBByOutputIndex(index), 0.0));`,
    ),

  [FUSED.gelu]: ({ inputs: { x }, backend }) =>
    elementwise(
      backend,
      'dferGelu',
      [['x', x]],
      x.shape,
      `let v = getXByOutputIndex(index);
       let t = dferTanh(${SQRT_2_OVER_PI} * (v + ${GELU_CUBIC} * v * v * v));
       setOutputAtIndex(index, 0.5 * v * (1.0 + t));`,
      undefined,
      WGSL_TANH,
    ),

  [FUSED.geluGrad]: ({ inputs: { dy, x }, backend }) =>
    elementwise(
      backend,
      'dferGeluGrad',
      [
        ['dy', dy],
        ['x', x],
      ],
      x.shape,
      `let v = getXByOutputIndex(index);
       let t = dferTanh(${SQRT_2_OVER_PI} * (v + ${GELU_CUBIC} * v * v * v));
       let du = ${SQRT_2_OVER_PI} * (1.0 + ${3 * GELU_CUBIC} * v * v);
       setOutputAtIndex(index, getDyByOutputIndex(index) * (0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * du));`,
      undefined,
      WGSL_TANH,
    ),

  // torch.optim.SGD: d = g + wd * p; buf = d (first step) or momentum * buf + d; p -= lr * buf. Two dispatches: the
  // new buffer, then the parameter from it.
  [FUSED.sgdMomentum]: ({ inputs: { param, grad, buf }, backend, attrs }) => {
    const { lr, momentum, weightDecay } = attrs as { lr: number; momentum: number; weightDecay: number };
    const d = `getGradByOutputIndex(index) + uniforms.wd * getParamByOutputIndex(index)`;
    const b1 = buf
      ? elementwise(
          backend,
          'dferSgdBuf',
          [
            ['param', param],
            ['grad', grad],
            ['buf', buf],
          ],
          param.shape,
          `setOutputAtIndex(index, uniforms.momentum * getBufByOutputIndex(index) + ${d});`,
          {
            decl: 'momentum : f32, wd : f32,',
            data: [f32(momentum), f32(weightDecay)],
          },
        )
      : elementwise(
          backend,
          'dferSgdBufFirst',
          [
            ['param', param],
            ['grad', grad],
          ],
          param.shape,
          `setOutputAtIndex(index, ${d});`,
          { decl: 'wd : f32,', data: [f32(weightDecay)] },
        );
    const p1 = elementwise(
      backend,
      'dferSgdParam',
      [
        ['param', param],
        ['buf', b1],
      ],
      param.shape,
      `setOutputAtIndex(index, getParamByOutputIndex(index) - uniforms.lr * getBufByOutputIndex(index));`,
      {
        decl: 'lr : f32,',
        data: [f32(lr)],
      },
    );
    return [p1, b1];
  },

  [FUSED.bnRunningStats]: ({ inputs: { runningMean, runningVar, mean, variance }, backend, attrs }) => {
    const { momentum, unbias } = attrs as { momentum: number; unbias: number };
    const u = { decl: 'momentum : f32, unbias : f32,', data: [f32(momentum), f32(unbias)] };
    return [
      elementwise(
        backend,
        'dferBnMean',
        [
          ['r', runningMean],
          ['m', mean],
        ],
        runningMean.shape,
        `setOutputAtIndex(index, getRByOutputIndex(index) * (1.0 - uniforms.momentum) + getMByOutputIndex(index) * uniforms.momentum);`,
        u,
      ),
      elementwise(
        backend,
        'dferBnVar',
        [
          ['r', runningVar],
          ['v', variance],
        ],
        runningVar.shape,
        `setOutputAtIndex(index, getRByOutputIndex(index) * (1.0 - uniforms.momentum) + getVByOutputIndex(index) * uniforms.unbias * uniforms.momentum);`,
        u,
      ),
    ];
  },

  // Evaluation-mode BatchNorm (+ReLU) over the last axis: y = x * scale[c] + shift[c].
  [FUSED_NORM.batchNormInfer]: ({ inputs: { x, scale, shift }, backend, attrs }) =>
    elementwise(
      backend,
      `dferBatchNormInfer${attrs.relu === true ? 'Relu' : ''}`,
      [
        ['x', x],
        ['scale', scale],
        ['shift', shift],
      ],
      x.shape,
      `let c = index % uniforms.scaleShape;
       let y = getXByOutputIndex(index) * getScale(c) + getShift(c);
       setOutputAtIndex(index, ${attrs.relu === true ? 'max(y, 0.0)' : 'y'});`,
    ),
};

// ---------------------------------------------------------------------------------------------------------------
// JavaScript references on the cpu backend, for the census and the tests.

type CpuBackend = tf.KernelBackend & {
  readSync(id: object): tf.TypedArray;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo;
};

function cpuMap(
  backend: CpuBackend,
  shape: number[],
  inputs: tf.TensorInfo[],
  f: (i: number, v: Float32Array[]) => number,
): tf.TensorInfo {
  const vals = inputs.map((t) => backend.readSync(t.dataId) as Float32Array);
  const out = new Float32Array(vals[0].length);
  for (let i = 0; i < out.length; i++) out[i] = f(i, vals);
  return backend.makeTensorInfo(shape, 'float32', out);
}

const geluRef = (v: number) => 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + GELU_CUBIC * v ** 3)));
const geluGradRef = (v: number) => {
  const t = Math.tanh(SQRT_2_OVER_PI * (v + GELU_CUBIC * v ** 3));
  return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_CUBIC * v * v);
};

const CPU_KERNELS: Record<
  string,
  (a: { inputs: Inputs; backend: CpuBackend; attrs: Record<string, unknown> }) => tf.TensorInfo | tf.TensorInfo[]
> = {
  [FUSED.reluGrad]: ({ inputs: { dy, y }, backend }) =>
    cpuMap(backend, dy.shape, [dy, y], (i, [g, o]) => (o[i] > 0 ? g[i] : 0)),
  [FUSED.addRelu]: ({ inputs: { a, b }, backend }) =>
    cpuMap(backend, a.shape, [a, b], (i, [x, y]) => Math.max(x[i] + y[i], 0)),
  [FUSED.gelu]: ({ inputs: { x }, backend }) => cpuMap(backend, x.shape, [x], (i, [v]) => geluRef(v[i])),
  [FUSED.geluGrad]: ({ inputs: { dy, x }, backend }) =>
    cpuMap(backend, x.shape, [dy, x], (i, [g, v]) => g[i] * geluGradRef(v[i])),
  [FUSED.sgdMomentum]: ({ inputs: { param, grad, buf }, backend, attrs }) => {
    const { lr, momentum, weightDecay } = attrs as { lr: number; momentum: number; weightDecay: number };
    const b1 = cpuMap(
      backend,
      param.shape,
      buf ? [param, grad, buf] : [param, grad],
      (i, [p, g, b]) => (b ? momentum * b[i] : 0) + g[i] + weightDecay * p[i],
    );
    return [cpuMap(backend, param.shape, [param, b1], (i, [p, b]) => p[i] - lr * b[i]), b1];
  },
  [FUSED.bnRunningStats]: ({ inputs: { runningMean, runningVar, mean, variance }, backend, attrs }) => {
    const { momentum, unbias } = attrs as { momentum: number; unbias: number };
    return [
      cpuMap(backend, runningMean.shape, [runningMean, mean], (i, [r, m]) => r[i] * (1 - momentum) + m[i] * momentum),
      cpuMap(
        backend,
        runningVar.shape,
        [runningVar, variance],
        (i, [r, v]) => r[i] * (1 - momentum) + v[i] * unbias * momentum,
      ),
    ];
  },
  [FUSED_NORM.batchNormInfer]: ({ inputs: { x, scale, shift }, backend, attrs }) => {
    const c = scale.shape[0];
    return cpuMap(backend, x.shape, [x, scale, shift], (i, [v, s, t]) => {
      const y = v[i] * s[i % c] + t[i % c];
      return attrs.relu === true ? Math.max(y, 0) : y;
    });
  },
};

/** The WGSL kernels for `backendName`, and the JavaScript references for 'cpu' (where not registered yet). */
export function registerFused(backendName: string): void {
  for (const [kernelName, run] of Object.entries(GPU_KERNELS)) {
    tf.registerKernel({ kernelName, backendName, kernelFunc: run as unknown as tf.KernelFunc });
  }
  for (const [kernelName, run] of Object.entries(CPU_KERNELS)) {
    if (!tf.getKernel(kernelName, 'cpu'))
      tf.registerKernel({ kernelName, backendName: 'cpu', kernelFunc: run as unknown as tf.KernelFunc });
  }
}
