// Native-kernel tests compare the `native` backend against tfjs' own cpu backend on the same inputs. When the engine
// is not built they are skipped, unless DFER_NATIVE=require (CI's native pass), where a missing engine is a failure.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import { nativeAddon, nativeStatus } from '../../src/native/addon.js';
import { relError } from './golden.js';

export const nativeAvailable = nativeStatus().available;
if (!nativeAvailable && process.env.DFER_NATIVE === 'require') {
  throw new Error(`DFER_NATIVE=require but the native engine is unavailable: ${nativeStatus().detail}`);
}
/** `describe` when the native engine is available, `describe.skip` otherwise. */
export const describeNative: jest.Describe | typeof describe = nativeAvailable ? describe : describe.skip;

/** An input made on the cpu backend by `onBoth`: a tensor, or a function returning one. */
export type Input = () => tf.Tensor;

/** Deterministic float32 input with values in [-scale, scale]. */
export function rand(shape: number[], seed: number, scale = 1): Input {
  return () => tf.randomUniform(shape, -scale, scale, 'float32', seed);
}

/** Run `f` on the cpu backend and on the native one (same input values on both), return both outputs. */
export async function onBoth(inputs: Input[], f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]) {
  await useBackend('cpu');
  const values = inputs.map((make) => {
    const t = make();
    const v = { data: t.dataSync().slice(), shape: t.shape, dtype: t.dtype };
    t.dispose();
    return v;
  });
  const runOn = async (backend: 'cpu' | 'native') => {
    await useBackend(backend);
    const xs = values.map((v) => tf.tensor(v.data, v.shape, v.dtype));
    const out = f(...xs);
    const outs = Array.isArray(out) ? out : [out];
    const result = outs.map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync()) }));
    tf.dispose([...xs, ...outs]);
    return result;
  };
  const cpu = await runOn('cpu');
  const native = await runOn('native');
  return { cpu, native };
}

/** Expect native outputs to equal cpu outputs: same shapes, max |diff| / max |cpu| below `tol`. */
export async function expectSameOnBoth(
  inputs: Input[],
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  tol = 1e-5,
) {
  const { cpu, native } = await onBoth(inputs, f);
  expect(native.length).toBe(cpu.length);
  cpu.forEach((c, i) => {
    expect(native[i].shape).toEqual(c.shape);
    expect(relError(native[i].data, c.data)).toBeLessThan(tol);
  });
}

/** sum(y * sin(0, 1, 2, ...)): a loss that gives every element of y its own gradient. */
export function weightedSum(y: tf.Tensor): tf.Tensor {
  return tf.sum(tf.mul(y, tf.sin(tf.reshape(tf.range(0, y.size), y.shape))));
}

/** How many times the addon function `name` is called while `body` runs on the native backend. */
export async function countCalls(name: string, body: () => void | Promise<void>): Promise<number> {
  const addon = nativeAddon()!;
  const original = addon[name];
  let calls = 0;
  addon[name] = (...args: unknown[]) => {
    calls++;
    return original(...args);
  };
  try {
    await useBackend('native');
    await body();
  } finally {
    addon[name] = original;
  }
  return calls;
}
