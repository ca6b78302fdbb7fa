import { Rng } from '../../src/random.js';
import { drawAugment, identityAugment, OFFICIAL_AUGMENT, renderFrame } from '../../src/data/augment.js';
import { batchCount, loadBatches, type Batch, type LoaderOptions } from '../../src/data/loader.js';
import { DEFAULT_SAMPLING } from '../../src/data/sampling.js';
import { PreparedSet } from '../../src/data/store.js';
import { flatFrame, makeTinySet } from '../helpers/tinyset.js';

describe('augmentation', () => {
  const gradient = () => {
    const f = flatFrame(8, 0);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) f.data.fill(x * 30, (y * 8 + x) * 3, (y * 8 + x) * 3 + 3);
    return f;
  };

  test('identity at the same size reproduces the frame', () => {
    const out = new Float32Array(8 * 8 * 3);
    renderFrame(gradient(), identityAugment(8, 8), 8, out);
    expect(Array.from(out.filter((_, i) => i % 3 === 0).slice(0, 8)).map((v) => Math.round(v * 255))).toEqual([
      0, 30, 60, 90, 120, 150, 180, 210,
    ]);
  });

  test('flip mirrors, brightness scales and clips', () => {
    const out = new Float32Array(8 * 8 * 3);
    renderFrame(gradient(), { ...identityAugment(8, 8), flip: true, brightness: 1.5 }, 8, out);
    const row = Array.from(out.filter((_, i) => i % 3 === 0).slice(0, 8)).map((v) => Math.round(v * 255));
    expect(row).toEqual([255, 255, 225, 180, 135, 90, 45, 0]);
  });

  test('drawn crops stay inside the frame with the official ranges; seeded', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 200; i++) {
      const p = drawAugment(rng, 128, 128);
      expect(p.crop.x).toBeGreaterThanOrEqual(0);
      expect(p.crop.x + p.crop.w).toBeLessThanOrEqual(128);
      expect(p.crop.y + p.crop.h).toBeLessThanOrEqual(128);
      expect((p.crop.w * p.crop.h) / 128 ** 2).toBeGreaterThanOrEqual(0.84);
      expect(p.brightness).toBeGreaterThanOrEqual(OFFICIAL_AUGMENT.brightness[0]);
      expect(p.brightness).toBeLessThanOrEqual(OFFICIAL_AUGMENT.brightness[1]);
      expect(Math.abs(p.angle)).toBeLessThanOrEqual(4);
    }
    expect(drawAugment(new Rng(5), 128, 128)).toEqual(drawAugment(new Rng(5), 128, 128));
  });
});

describe('loader', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTinySet({ clips: 10, frames: 40, size: 16 });
  });

  const options = (over: Partial<LoaderOptions> = {}): LoaderOptions => {
    const set = PreparedSet.open(dir);
    return {
      set,
      ids: set.manifest.clips.map((c) => c.id),
      mode: 'train',
      sampling: DEFAULT_SAMPLING,
      augment: null,
      size: 16,
      batchSize: 3,
      seed: 7,
      epoch: 0,
      dropLast: true,
      workers: 0,
      ...over,
    };
  };
  const collect = async (o: LoaderOptions) => {
    const out: Batch[] = [];
    for await (const b of loadBatches(o)) out.push(b);
    return out;
  };

  test('batches: shape (B, T, S, S, 3), labels, drop-last, the sampled frames', async () => {
    const batches = await collect(options({ mode: 'test', dropLast: false }));
    expect(batches.map((b) => b.shape[0])).toEqual([3, 3, 3, 1]);
    expect(batches.length).toBe(batchCount(10, 3, false));
    expect(batches[0].shape).toEqual([3, 16, 16, 16, 3]);
    const set = PreparedSet.open(dir);
    expect(Array.from(batches[0].labels)).toEqual(batches[0].ids.map((id) => set.clip(id).label));
    // test mode, n = 40: frame levels 6 * index + 5, the middle of each of 16 segments
    const tick = 40 / 16;
    const expected = Array.from({ length: 16 }, (_, u) => 6 * Math.floor(tick / 2 + tick * u) + 5);
    const levels = Array.from({ length: 16 }, (_, t) => Math.round(batches[0].clips[t * 16 * 16 * 3] * 255));
    levels.forEach((l, t) => expect(Math.abs(l - expected[t])).toBeLessThanOrEqual(2));
    expect((await collect(options({ dropLast: true }))).length).toBe(3);
  });

  test('seeded and resumable: same epoch -> same batches; a resumed epoch continues identically', async () => {
    const a = await collect(options({ augment: OFFICIAL_AUGMENT }));
    const b = await collect(options({ augment: OFFICIAL_AUGMENT }));
    expect(a.map((x) => x.ids)).toEqual(b.map((x) => x.ids));
    expect(Buffer.from(a[1].clips.buffer).equals(Buffer.from(b[1].clips.buffer))).toBe(true);
    const resumed = await collect(options({ augment: OFFICIAL_AUGMENT, startBatch: 1 }));
    expect(resumed.map((x) => x.index)).toEqual([1, 2]);
    expect(Buffer.from(resumed[0].clips.buffer).equals(Buffer.from(a[1].clips.buffer))).toBe(true);
    const other = await collect(options({ augment: OFFICIAL_AUGMENT, epoch: 1 }));
    expect(other.map((x) => x.ids)).not.toEqual(a.map((x) => x.ids));
  });
});

test('worker threads render exactly what the main thread renders', async () => {
  // The worker entry is compiled JS: use the built loader (npm test builds dist/ first).
  const built = await import(new URL('../../dist/src/data/loader.js', import.meta.url).href);
  const store = await import(new URL('../../dist/src/data/store.js', import.meta.url).href);
  const dir = await makeTinySet({ clips: 6, frames: 24, size: 16 });
  const set = store.PreparedSet.open(dir);
  const run = async (workers: number) => {
    const out: Batch[] = [];
    const o = {
      set,
      ids: set.manifest.clips.map((c: { id: string }) => c.id),
      mode: 'train',
      sampling: DEFAULT_SAMPLING,
      augment: OFFICIAL_AUGMENT,
      size: 16,
      batchSize: 2,
      seed: 3,
      epoch: 1,
      dropLast: true,
      workers,
    };
    for await (const b of built.loadBatches(o)) out.push(b);
    return out;
  };
  const [main, pooled] = [await run(0), await run(2)];
  expect(pooled.map((b) => b.ids)).toEqual(main.map((b) => b.ids));
  pooled.forEach((b, i) => expect(Buffer.from(b.clips.buffer).equals(Buffer.from(main[i].clips.buffer))).toBe(true));
});
