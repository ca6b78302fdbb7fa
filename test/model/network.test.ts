import { TEST_BACKEND } from '../helpers/backend.js';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import { createConfig, type AttentionType } from '../../src/config.js';
import { channelAttention, declareAttention } from '../../src/model/attention.js';
import { createModel, forward } from '../../src/model/network.js';
import { ModuleBuilder, ParamStore } from '../../src/model/params.js';
import { Rng } from '../../src/random.js';
import { OFFICIAL_SGD, Sgd } from '../../src/train/optim.js';
import { trainStep } from '../../src/train/step.js';

beforeAll(async () => {
  await useBackend(TEST_BACKEND);
});

const randomClips = (b: number, size: number, seed = 7) =>
  tf.randomUniform([b, 16, 3, size, size], 0, 1, 'float32', seed) as tf.Tensor5D;

test('paper preset has the official tensor count and size (without the unused official tensors)', () => {
  const m = createModel(createConfig('paper'));
  // MODEL.md: 163 tensors / 19,090,439 values including 15 unused ones (bias, bias1/2, glb, layer1 gc/fc/AUX).
  const unused =
    1 * 64 +
    2 * 64 +
    64 * 64 +
    2 * 128 +
    128 * 128 +
    2 * 256 +
    256 * 256 +
    64 * 28 * 28 +
    4 * 64 * 2 +
    128 * 64 +
    7 * 128;
  const { trainable, buffers } = m.params.size();
  expect(m.params.names().length).toBe(163 - 15);
  expect(trainable + buffers).toBe(19090439 - unused);
  m.params.dispose();
});

test('small preset: shapes follow from the config', () => {
  const m = createModel(createConfig('small'), 1);
  const out = forward(m, randomClips(2, 64), { training: false });
  expect(out.logits.shape).toEqual([2, 7]);
  expect(out.features.shape).toEqual([2, 512]);
  expect(out.aux2!.shape).toEqual([2, 7]);
  expect(m.params.get('s_former.layer2.0.gc.0.weight').shape).toEqual([8, 8, 64]); // GCA kernel = the 8x8 map
  expect(m.params.get('s_former.pos_embedding_pos').shape).toEqual([1, 4, 128]);
  tf.dispose(Object.values(out));
  m.params.dispose();
});

test('wrong clip shape is refused with the expected shape', () => {
  const m = createModel(createConfig('small'));
  expect(() => forward(m, randomClips(1, 32), { training: false })).toThrow(/\(B, 16, 3, 64, 64\)/);
  m.params.dispose();
});

describe('channel attention', () => {
  const build = (type: AttentionType, seed: number) => {
    const store = new ParamStore();
    const spec = { type, channels: 32, spatial: 6, reduction: 4, aux: true, numClasses: 7 };
    declareAttention(new ModuleBuilder(store, new Rng(seed)), 'a', spec);
    return { store, spec };
  };

  test.each([1, 2, 3, 4, 5])('GCA weights S lie strictly in (0, 2) and can amplify (seed %i)', (seed) => {
    const { store, spec } = build('gca', seed);
    const x = tf.randomNormal([4 * 3, 6, 6, 32], 0, 3, 'float32', seed); // 4 clips x 3 frames
    const ones = tf.onesLike(x) as tf.Tensor4D;
    // With x = 1 everywhere the output *is* S; feed the real x through the descriptor by scaling instead:
    const out = channelAttention(store, 'a', spec, x as tf.Tensor4D, 3).out;
    const s = tf.div(out, tf.where(tf.equal(x, 0), ones, x)).dataSync();
    const min = Math.min(...s);
    const max = Math.max(...s);
    expect(min).toBeGreaterThan(0);
    expect(max).toBeLessThan(2);
    store.dispose();
  });

  test('SE and CBAM weights lie in (0, 1); every variant feeds the aux head', () => {
    for (const type of ['se', 'cbam'] as const) {
      const { store, spec } = build(type, 3);
      const x = tf.randomNormal([6, 6, 6, 32], 0, 1, 'float32', 9) as tf.Tensor4D;
      const r = channelAttention(store, 'a', spec, x, 3);
      const ratio = tf.div(r.out, x).dataSync();
      expect(Math.min(...ratio)).toBeGreaterThan(0);
      expect(Math.max(...ratio)).toBeLessThan(1 + 1e-6);
      expect(r.aux!.shape).toEqual([2, 7]);
      store.dispose();
    }
  });
});

test.each(['se', 'cbam', 'gca', 'none'] as const)(
  'attention=%s builds and trains a step on the small preset',
  async (attention) => {
    const config = createConfig('small', { attention, aux: attention !== 'none' });
    const m = createModel(config, 3);
    const hasGc = m.params.has('s_former.layer2.0.gc.0.weight');
    expect(hasGc).toBe(attention === 'gca');
    expect(m.params.has('s_former.layer3.0.fc1.0.weight')).toBe(attention !== 'none');
    const before = m.params.get('s_former.layer3.0.conv2.weight').dataSync().slice();
    const sgd = new Sgd(OFFICIAL_SGD);
    const clips = randomClips(2, 64);
    const labels = tf.tensor1d([0, 5], 'int32');
    const losses = await trainStep(m, sgd, clips, labels, 0.01, { lambda: 0.1, ial: true });
    for (const v of Object.values(losses)) expect(Number.isFinite(v)).toBe(true);
    expect(losses.aux > 0).toBe(attention !== 'none');
    const after = m.params.get('s_former.layer3.0.conv2.weight').dataSync();
    expect(after.some((v, i) => v !== before[i])).toBe(true);
    tf.dispose([clips, labels]);
    sgd.dispose();
    m.params.dispose();
  },
);

test('same seed -> same initial weights; different seed -> different', () => {
  const a = createModel(createConfig('small'), 11);
  const b = createModel(createConfig('small'), 11);
  const c = createModel(createConfig('small'), 12);
  const w = (m: typeof a) => Array.from(m.params.get('s_former.layer2.0.conv1.weight').dataSync());
  expect(w(a)).toEqual(w(b));
  expect(w(a)).not.toEqual(w(c));
  for (const m of [a, b, c]) m.params.dispose();
});
