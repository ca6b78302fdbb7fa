// The kernel census: every distinct kernel call (name, input shapes and dtypes, attributes) a computation makes,
// recorded with its inputs and outputs on a reference backend (cpu, wasm), then replayed on another backend (webgpu)
// and compared. This is how a kernel that a backend lacks or gets wrong on some GPU is found by the tests and by
// bench/gpu's check, rather than by users.
import * as tf from '@tensorflow/tfjs-core';

export interface KernelCall {
  key: string;
  name: string;
  inputs: Array<{ name: string; shape: number[]; dtype: tf.DataType; values: tf.TypedArray }>;
  attrs: Record<string, unknown>;
  outputs: Array<{ shape: number[]; dtype: tf.DataType; values: tf.TypedArray }>;
}

const describeKey = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>) =>
  `${name}(${Object.entries(inputs)
    .map(([k, t]) => `${k}:${t.dtype}[${t.shape}]`)
    .join(', ')}) ${JSON.stringify(attrs ?? {})}`;

/** Run `f` on the current backend (the reference) and return each distinct kernel call it made, in first-seen order. */
export async function recordKernels(f: () => void | Promise<void>): Promise<KernelCall[]> {
  const engine = tf.engine() as unknown as {
    runKernel: (n: string, i: Record<string, tf.Tensor>, a: Record<string, unknown>) => tf.Tensor | tf.Tensor[];
  };
  const original = engine.runKernel;
  const calls = new Map<string, KernelCall>();
  engine.runKernel = function (name, inputs, attrs) {
    const out = original.call(this, name, inputs, attrs);
    const key = describeKey(name, inputs, attrs);
    if (!calls.has(key)) {
      const list = Array.isArray(out) ? out : [out];
      calls.set(key, {
        key,
        name,
        inputs: Object.entries(inputs).map(([k, t]) => ({
          name: k,
          shape: t.shape,
          dtype: t.dtype,
          values: t.dataSync().slice() as tf.TypedArray,
        })),
        attrs: attrs ?? {},
        outputs: list.map((t) => ({ shape: t.shape, dtype: t.dtype, values: t.dataSync().slice() as tf.TypedArray })),
      });
    }
    return out;
  };
  try {
    await f();
  } finally {
    engine.runKernel = original;
  }
  return [...calls.values()];
}

/** max |a - b| / max(|b|, 1e-6) over every element; Infinity when shapes differ or a value is NaN only on one side. */
export function kernelError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (Number.isNaN(a) !== Number.isNaN(b)) return Infinity;
    if (Number.isNaN(b)) continue;
    diff = Math.max(diff, Math.abs(a - b));
    scale = Math.max(scale, Math.abs(b));
  }
  return diff / scale;
}

/** Replay one recorded call on the current backend; returns the worst output error against the recording. */
export async function replayKernel(call: KernelCall): Promise<number> {
  // Kernels with a list of inputs (Concat, AddN, Pack) were given an array; the rest a map by name.
  const list = call.inputs.map((i) => tf.tensor(i.values, i.shape, i.dtype));
  const positional = call.inputs.every((i) => /^\d+$/.test(i.name));
  const inputs: Record<string, tf.Tensor> | tf.Tensor[] = positional
    ? list
    : Object.fromEntries(call.inputs.map((i, k) => [i.name, list[k]]));
  let worst = 0;
  try {
    const out = tf
      .engine()
      .runKernel(call.name, inputs as unknown as tf.NamedTensorMap, call.attrs as tf.NamedAttrMap) as
      | tf.Tensor
      | tf.Tensor[];
    const outs = Array.isArray(out) ? out : [out];
    if (outs.length !== call.outputs.length) return Infinity;
    for (let k = 0; k < outs.length; k++) {
      const got = outs[k];
      const want = call.outputs[k];
      if (got.shape.join() !== want.shape.join()) worst = Infinity;
      else worst = Math.max(worst, kernelError(await got.data(), want.values));
    }
    tf.dispose(outs);
  } finally {
    tf.dispose(list);
  }
  return worst;
}

/** max |a - b| / max |b|: the golden README's measure ("relative to their largest magnitude"). */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / (scale || 1);
}

/** The cosine of the angle between two vectors: whether two gradients point the same way. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < b.length; i++) {
    dot += a[i] * b[i];
    na += a[i] ** 2;
    nb += b[i] ** 2;
  }
  return dot / Math.sqrt(na * nb || 1);
}
