import { Rng } from '../../src/random.js';
import { DEFAULT_SAMPLING, sampleFrameIndices, segmentStarts } from '../../src/data/sampling.js';

const spec = (u: number, v: number, rule: 'official' | 'uniform' = 'official') => ({ u, v, rule });

describe('test-mode sampling (middle of each segment)', () => {
  test('n >> U: int(tick/2 + tick*u) with tick = (n - V + 1) / U', () => {
    const n = 100;
    const tick = 100 / 16;
    expect(sampleFrameIndices(n, 'test', DEFAULT_SAMPLING)).toEqual(
      Array.from({ length: 16 }, (_, u) => Math.floor(tick / 2 + tick * u)),
    );
  });

  test('U x V = 8 x 2 (FERV39k): V consecutive frames from each start', () => {
    const idx = sampleFrameIndices(40, 'test', spec(8, 2));
    const tick = 39 / 8;
    const starts = Array.from({ length: 8 }, (_, u) => Math.floor(tick / 2 + tick * u));
    expect(idx).toEqual(starts.flatMap((s) => [s, s + 1]));
  });

  test('n = U: the official rule degenerates to frame 0; uniform takes every frame', () => {
    expect(sampleFrameIndices(16, 'test', DEFAULT_SAMPLING)).toEqual(new Array(16).fill(0));
    expect(sampleFrameIndices(16, 'test', spec(16, 1, 'uniform'))).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });

  test('n < U: zeros (official) or every frame with the last repeated (uniform)', () => {
    expect(sampleFrameIndices(5, 'test', DEFAULT_SAMPLING)).toEqual(new Array(16).fill(0));
    const u = sampleFrameIndices(5, 'test', spec(16, 1, 'uniform'));
    expect(u).toHaveLength(16);
    expect(new Set(u)).toEqual(new Set([0, 1, 2, 3, 4]));
    expect([...u].sort((a, b) => a - b)).toEqual(u);
  });
});

describe('train-mode sampling (random within segments)', () => {
  test('n >> U: one index per segment of length d = (n - V + 1) // U', () => {
    const rng = new Rng(1);
    for (let trial = 0; trial < 50; trial++) {
      const n = 37 + trial;
      const d = Math.floor(n / 16);
      const idx = segmentStarts(n, 'train', DEFAULT_SAMPLING, rng);
      idx.forEach((i, u) => {
        expect(i).toBeGreaterThanOrEqual(u * d);
        expect(i).toBeLessThan((u + 1) * d);
      });
    }
  });

  test('n = U: d = 1, so exactly 0..15', () => {
    expect(sampleFrameIndices(16, 'train', DEFAULT_SAMPLING, new Rng(3))).toEqual(
      Array.from({ length: 16 }, (_, i) => i),
    );
  });

  test('U < n < 2U with V = 2: d = 0 and n > U -> sorted random starts in [0, n - V]', () => {
    const idx = segmentStarts(16, 'train', spec(8, 2), new Rng(4)); // d = 15 // 8 = 1 -> segments
    expect(idx.every((v, i) => v >= i && v < i + 1)).toBe(true);
    const idx2 = segmentStarts(12, 'train', spec(8, 6), new Rng(4)); // span 7, d = 0, n > U
    expect([...idx2].sort((a, b) => a - b)).toEqual(idx2);
    expect(Math.max(...idx2)).toBeLessThanOrEqual(6);
  });

  test('n <= U: zeros (official); V frames clamp to the last frame', () => {
    expect(sampleFrameIndices(10, 'train', DEFAULT_SAMPLING, new Rng(5))).toEqual(new Array(16).fill(0));
    expect(sampleFrameIndices(3, 'test', spec(2, 4))).toEqual([0, 1, 2, 2, 0, 1, 2, 2]);
  });

  test('seeded: same seed, same indices', () => {
    const a = sampleFrameIndices(200, 'train', DEFAULT_SAMPLING, new Rng(9));
    const b = sampleFrameIndices(200, 'train', DEFAULT_SAMPLING, new Rng(9));
    const c = sampleFrameIndices(200, 'train', DEFAULT_SAMPLING, new Rng(10));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  test('train mode without an Rng is a programming error', () => {
    expect(() => sampleFrameIndices(50, 'train', DEFAULT_SAMPLING)).toThrow(/Rng/);
  });
});
