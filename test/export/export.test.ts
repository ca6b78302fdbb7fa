/**
 * @jest-environment ./test/helpers/node-typed-arrays-env.cjs
 */
// dfer export --format onnx | tfjs: the exported graphs run in onnxruntime-node and in TensorFlow.js' graph executor
// and give the authors' golden outputs (paper preset) and dfer's own (every attention variant); the files carry
// their contract (names, dynamic batch, metadata); bad input and failures write nothing.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadGraphModelSync } from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { useBackend } from '../../src/backend.js';
import { createConfig, type ModelOverrides } from '../../src/config.js';
import { exportModel, ExportError, type ExportResult } from '../../src/export/export.js';
import { GraphBuilder, GraphError } from '../../src/export/graph.js';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { createModel, forward, type Model } from '../../src/model/network.js';
import { importTorchStateDict } from '../../src/model/torch.js';
import { dfer, json, tmpDir } from '../cli/run.js';
import { TEST_BACKEND } from '../helpers/backend.js';
import { golden, goldenTensor, relError } from '../helpers/golden.js';

const work = tmpDir();
afterAll(() => work.cleanup());
beforeAll(async () => {
  await useBackend(TEST_BACKEND);
});

/** Saves a model as a checkpoint in the scratch folder; returns its path. */
async function checkpoint(name: string, model: Model): Promise<string> {
  const path = join(work.path, 'ckpt', name);
  mkdirSync(join(work.path, 'ckpt'), { recursive: true });
  await saveCheckpoint(path, model);
  return path;
}

async function dferOutputs(model: Model, clips: tf.Tensor5D) {
  const out = forward(model, clips, { training: false });
  const r = {
    logits: (await out.logits.data()) as Float32Array,
    features: (await out.features.data()) as Float32Array,
  };
  tf.dispose([out.logits, out.features, out.aux2 ?? [], out.aux3 ?? []].flat());
  return r;
}

async function runOnnxFile(file: string, clips: tf.Tensor) {
  const session = await ort.InferenceSession.create(file);
  const out = await session.run({
    clips: new ort.Tensor('float32', (await clips.data()) as Float32Array, clips.shape),
  });
  await session.release();
  return { logits: out.logits, features: out.features };
}

describe('the graph builder', () => {
  test('infers shapes as nodes are added, the dynamic batch included', () => {
    const g = new GraphBuilder();
    const x = g.input('x', [-1, 8, 8, 3]);
    const y = g.conv2d(
      x,
      g.constant('w', new Float32Array(3 * 3 * 3 * 4), [3, 3, 3, 4]),
      g.constant('b', new Float32Array(4), [4]),
      2,
      1,
    );
    expect(y.shape).toEqual([-1, 4, 4, 4]);
    expect(g.maxPool(y, 3, 2, 1).shape).toEqual([-1, 2, 2, 4]);
    expect(g.reshape(y, [-1, 16, 4]).shape).toEqual([-1, 16, 4]);
    expect(g.reduce('mean', y, [1, 2]).shape).toEqual([-1, 4]);
    expect(g.slice(y, [0, 1, 0, 0], [-1, 2, -1, -1]).shape).toEqual([-1, 2, 4, 4]);
  });

  test('a wiring mistake fails where it is made, with the module named', () => {
    const g = new GraphBuilder();
    const x = g.input('x', [-1, 4, 6]);
    expect(() => g.scope('blk', () => g.reshape(x, [-1, 5]))).toThrow(/blk\/reshape: \(N, 4, 6\) to \(N, 5\)/);
    expect(() => g.matMul(x, g.constant('w', new Float32Array(10), [5, 2]))).toThrow(GraphError);
    expect(() => g.binary('add', x, g.constant('v', new Float32Array(4), [4]))).toThrow(/cannot broadcast/);
  });
});

describe('ONNX', () => {
  let onnxFile: string;
  let clips: tf.Tensor5D;
  let exported: ExportResult;

  beforeAll(async () => {
    const { model } = importTorchStateDict(golden().weights, createConfig('paper'));
    const ckpt = await checkpoint('golden', model);
    model.params.dispose();
    clips = goldenTensor('input.clip_btchw') as tf.Tensor5D;
    onnxFile = join(work.path, 'golden.onnx');
    exported = await exportModel({ checkpoint: ckpt, format: 'onnx', out: onnxFile });
  });
  afterAll(() => clips.dispose());

  test('the paper network gives the authors golden logits and features in onnxruntime', async () => {
    expect(exported.verification).toMatchObject({ verified: true, clips: 2 });
    const out = await runOnnxFile(onnxFile, clips);
    expect(out.logits.dims).toEqual([2, 7]);
    expect(out.features.dims).toEqual([2, 4096]);
    const { batch } = golden();
    // The golden README's tolerance for eval outputs: 1e-4 relative to the largest magnitude.
    expect(relError(out.logits.data as Float32Array, batch.get('eval.logits')!.data)).toBeLessThan(1e-4);
    expect(relError(out.features.data as Float32Array, batch.get('eval.features')!.data)).toBeLessThan(1e-4);
  });

  test('the batch is dynamic: one clip alone gives the same outputs as within the batch', async () => {
    const one = tf.slice(clips, [1, 0, 0, 0, 0], [1, -1, -1, -1, -1]);
    const three = tf.concat([clips, one]);
    const [single, both] = [await runOnnxFile(onnxFile, one), await runOnnxFile(onnxFile, three)];
    one.dispose();
    three.dispose();
    expect(both.logits.dims).toEqual([3, 7]);
    const fromThree = (both.logits.data as Float32Array).slice(7, 14);
    expect(relError(single.logits.data as Float32Array, fromThree)).toBeLessThan(1e-5);
  });

  test('the file names its input and outputs, leads them with a dynamic N and carries the classes', () => {
    const { ModelProto } = onnxProto.onnx;
    const m = ModelProto.toObject(ModelProto.decode(readFileSync(onnxFile)), {
      longs: Number,
    }) as onnxProto.onnx.IModelProto;
    expect(m.opsetImport![0].version).toBe(17);
    const dims = (v: onnxProto.onnx.IValueInfoProto) =>
      v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || d.dimValue);
    expect(m.graph!.input!.map((v) => [v.name, dims(v)])).toEqual([['clips', ['N', 16, 3, 112, 112]]]);
    expect(m.graph!.output!.map((v) => [v.name, dims(v)])).toEqual([
      ['logits', ['N', 7]],
      ['features', ['N', 4096]],
    ]);
    const props = Object.fromEntries(m.metadataProps!.map((p) => [p.key, p.value]));
    expect(JSON.parse(props['dfer.classes'])).toEqual(createConfig('paper').classes);
    expect(JSON.parse(props['dfer.config']).attention).toBe('gca');
    expect(props['dfer.input']).toMatch(/^clips: float32 \(N, 16, 3, 112, 112\)/);
  });

  // Every channel attention variant and the GCA-less network take other branches of the graph.
  test.each<[string, ModelOverrides]>([
    ['SE', { attention: 'se' }],
    ['CBAM', { attention: 'cbam' }],
    ['no attention', { attention: 'none' }],
  ])('%s: the exported small network gives dfer logits', async (_name, overrides) => {
    const model = createModel(createConfig('small', overrides), 5);
    const path = await checkpoint(`small-${overrides.attention}`, model);
    const input = tf.randomUniform([2, 16, 3, 64, 64], 0, 1, 'float32', 9) as tf.Tensor5D;
    const want = await dferOutputs(model, input);
    model.params.dispose();
    const file = join(work.path, `small-${overrides.attention}.onnx`);
    await exportModel({ checkpoint: path, format: 'onnx', out: file });
    const got = await runOnnxFile(file, input);
    input.dispose();
    expect(relError(got.logits.data as Float32Array, want.logits)).toBeLessThan(1e-4);
    expect(relError(got.features.data as Float32Array, want.features)).toBeLessThan(1e-4);
  });
});

describe('TensorFlow.js web model', () => {
  let model: Model;
  let path: string;
  let out: string;

  beforeAll(async () => {
    model = createModel(createConfig('small'), 7);
    path = await checkpoint('small', model);
    out = join(work.path, 'web');
  });
  afterAll(() => model.params.dispose());

  test('model.json and its shards, loaded as a browser would, give dfer logits; the page and runtime are beside them', async () => {
    const r = await exportModel({ checkpoint: path, format: 'tfjs', out });
    expect(r.verification).toMatchObject({ verified: true });
    const modelJson = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(modelJson.format).toBe('graph-model');
    expect(Object.keys(modelJson.signature.inputs)).toEqual(['clips']);
    expect(modelJson.userDefinedMetadata['dfer.classes']).toBe(JSON.stringify(model.config.classes));
    // The shards, in manifest order, are the weights (tensorflowjs_converter's 4 MiB shards)
    const paths: string[] = modelJson.weightsManifest[0].paths;
    expect(paths.length).toBeGreaterThan(1);
    const shards = paths.map((p) => readFileSync(join(out, p)));
    expect(shards.slice(0, -1).every((s) => s.byteLength === 4 * 2 ** 20)).toBe(true);
    const weights = Buffer.concat(shards);
    const graph = loadGraphModelSync([
      modelJson,
      weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    ]);
    const input = tf.randomUniform([3, 16, 3, 64, 64], 0, 1, 'float32', 4) as tf.Tensor5D;
    const [logits, features] = graph.execute({ clips: input }, ['logits', 'features']) as tf.Tensor[];
    const want = await dferOutputs(model, input);
    expect(logits.shape).toEqual([3, 7]);
    expect(relError((await logits.data()) as Float32Array, want.logits)).toBeLessThan(1e-4);
    expect(relError((await features.data()) as Float32Array, want.features)).toBeLessThan(1e-4);
    tf.dispose([input, logits, features]);
    graph.dispose();
    for (const f of [
      'index.html',
      'tf.min.js',
      'tf-backend-wasm.min.js',
      'tfjs-backend-wasm-simd.wasm',
      'tf-backend-webgpu.min.js',
    ])
      expect(existsSync(join(out, f))).toBe(true);
    expect(r.files).toEqual(expect.arrayContaining(['model.json', ...paths, 'index.html']));
  });

  test('a second export replaces the first whole; a folder holding other files is refused, untouched', async () => {
    writeFileSync(join(out, 'stale.txt'), 'from an older export');
    await exportModel({ checkpoint: path, format: 'tfjs', out, verify: false });
    expect(existsSync(join(out, 'stale.txt'))).toBe(false);
    const foreign = join(work.path, 'thesis');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'chapter1.tex'), 'x');
    await expect(exportModel({ checkpoint: path, format: 'tfjs', out: foreign })).rejects.toThrow(
      /thesis: exists and holds other files/,
    );
    expect(readdirSync(foreign)).toEqual(['chapter1.tex']);
  });
});

describe('dfer export (CLI)', () => {
  let ckpt: string;
  beforeAll(async () => {
    const model = createModel(createConfig('small'), 2);
    ckpt = await checkpoint('cli', model);
    model.params.dispose();
  });

  test('--format onnx --json reports the contract and the verification', async () => {
    const file = join(work.path, 'cli.onnx');
    const r = await dfer(['export', ckpt, '--format', 'onnx', '-o', file, '--json', '--backend', TEST_BACKEND]);
    expect(r.code).toBe(0);
    const j = json<{
      input: { name: string; shape: string };
      outputs: string[];
      opset: number;
      verification: { verified: boolean; runtime: string };
    }>(r);
    expect(j.input).toEqual({ name: 'clips', shape: '(N, 16, 3, 64, 64)' });
    expect(j.outputs).toEqual(['logits', 'features']);
    expect(j.opset).toBe(17);
    expect(j.verification.verified).toBe(true);
    expect(j.verification.runtime).toMatch(/^onnxruntime-node /);
    expect(existsSync(file)).toBe(true);
  });

  test('a missing checkpoint: one line naming it, a non-zero exit, nothing written', async () => {
    const file = join(work.path, 'none.onnx');
    const r = await dfer(['export', join(work.path, 'nope'), '--format', 'onnx', '-o', file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/nope/);
    expect(existsSync(file)).toBe(false);
  });

  test('an export that disagrees with dfer is refused before anything is written', async () => {
    // The check itself: outputs off by far more than float32 rounding are an error, not a warning.
    const { checkAgreement } = await import('../../src/export/export.js');
    const want = { logits: Float32Array.of(1, 2), features: Float32Array.of(3, 4) };
    expect(() => checkAgreement('x', 1, want, want)).not.toThrow();
    expect(() => checkAgreement('x', 1, want, { ...want, logits: Float32Array.of(1, 2.1) })).toThrow(ExportError);
  });
});
