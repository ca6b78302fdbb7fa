// t-SNE (src/analysis/tsne.ts) and `dfer tsne`'s core (src/analysis/features.ts): the PCA step against an exact
// eigen-decomposition, determinism, separable clusters kept apart by both the exact and the Barnes-Hut gradient, and
// the figure files of a checkpoint on a small prepared set (with a baseline beside it, coloured by intensity).
import { TEST_BACKEND } from '../helpers/backend.js';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { useBackend } from '../../src/backend.js';
import { createConfig, DFEW_CLASSES } from '../../src/config.js';
import { encodeJpeg } from '../../src/data/images.js';
import { newManifest, writeClip, writeManifest, type PreparedClip } from '../../src/data/store.js';
import { figureBase, tsneRun } from '../../src/analysis/features.js';
import { knnAccuracy, pca, symmetricEigen, tsne } from '../../src/analysis/tsne.js';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { createModel } from '../../src/model/network.js';
import { Rng } from '../../src/random.js';
import { classLetters, textScatter, tsneView } from '../../src/ui/tsne.js';

/** `perClass` points around each of `classes` random centres in `d` dimensions (sd 1 noise, centres sd `spread`). */
function blobs(classes: number, perClass: number, d: number, spread: number, seed = 5) {
  const rng = new Rng(seed);
  const centres = Array.from({ length: classes }, () => Array.from({ length: d }, () => spread * rng.normal()));
  const n = classes * perClass;
  const data = new Float64Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % classes;
    for (let t = 0; t < d; t++) data[i * d + t] = centres[labels[i]][t] + rng.normal();
  }
  return { data, labels, n, d };
}

test('pca: the principal component scores of an exact eigen-decomposition of the covariance', () => {
  const rng = new Rng(3);
  const [n, d, k] = [203, 37, 5];
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) x[i * d + t] = rng.normal() * (t < 5 ? 10 - t : 0.3) + t;
  const scores = pca(x, n, d, k, { seed: 1 });
  const mean = Array.from(
    { length: d },
    (_, t) => Array.from({ length: n }, (_, i) => x[i * d + t]).reduce((a, b) => a + b, 0) / n,
  );
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < d; a++)
      for (let b = 0; b < d; b++) cov[a * d + b] += (x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b]);
  const { vectors } = symmetricEigen(cov, d);
  for (let j = 0; j < k; j++) {
    const ref = Array.from({ length: n }, (_, i) =>
      Array.from({ length: d }, (_, t) => (x[i * d + t] - mean[t]) * vectors[t * d + j]).reduce((a, b) => a + b, 0),
    );
    const extreme = ref.reduce((a, v) => (Math.abs(v) > Math.abs(a) ? v : a), 0);
    const sign = Math.sign(extreme); // pca() makes the largest |score| positive
    const scale = Math.abs(extreme);
    ref.forEach((v, i) => expect(Math.abs(sign * v - scores[i * k + j]) / scale).toBeLessThan(1e-5));
  }
});

test('the same seed gives the same map; another seed (random init) another one', async () => {
  const { data, n, d } = blobs(4, 30, 20, 3);
  for (const method of ['exact', 'barnes-hut'] as const) {
    const a = await tsne(data, n, d, { method, seed: 7, iterations: 300 });
    const b = await tsne(data, n, d, { method, seed: 7, iterations: 300 });
    expect(a.method).toBe(method);
    expect(Array.from(b.coords)).toEqual(Array.from(a.coords));
    expect(a.coords.every(Number.isFinite)).toBe(true);
  }
  const r1 = await tsne(data, n, d, { seed: 1, init: 'random', iterations: 300 });
  const r2 = await tsne(data, n, d, { seed: 2, init: 'random', iterations: 300 });
  expect(Array.from(r1.coords)).not.toEqual(Array.from(r2.coords));
});

test('7 Gaussian blobs in 64-D stay separated in 2-D (exact and Barnes-Hut), and the KL divergence is small', async () => {
  const { data, labels, n, d } = blobs(7, 50, 64, 1.2);
  // In the input space the classes overlap a little; in the map they must be as separable.
  const inputKnn = knnAccuracy(data, labels, 10, d);
  expect(inputKnn).toBeGreaterThan(0.95);
  for (const method of ['exact', 'barnes-hut'] as const) {
    const progress: string[] = [];
    const r = await tsne(data, n, d, { method, seed: 1, pcaDims: 50, onProgress: (p) => progress.push(p.stage) });
    expect(r.method).toBe(method);
    expect(knnAccuracy(r.coords, labels, 10)).toBeGreaterThan(0.95);
    expect(r.kl).toBeGreaterThan(0);
    expect(r.kl).toBeLessThan(2);
    expect(new Set(progress)).toEqual(new Set(['pca', 'affinities', 'optimise'])); // 64-D: PCA to 50 first
    // Between-class distances dwarf within-class spread: each class's centroid is far from the others.
    const centroid = (c: number) => {
      const idx = Array.from(labels.keys()).filter((i) => labels[i] === c);
      return [0, 1].map((k) => idx.reduce((a, i) => a + r.coords[2 * i + k], 0) / idx.length);
    };
    const cs = Array.from({ length: 7 }, (_, c) => centroid(c));
    const spread = (c: number) => {
      const idx = Array.from(labels.keys()).filter((i) => labels[i] === c);
      return Math.sqrt(
        idx.reduce((a, i) => a + (r.coords[2 * i] - cs[c][0]) ** 2 + (r.coords[2 * i + 1] - cs[c][1]) ** 2, 0) /
          idx.length,
      );
    };
    for (let a = 0; a < 7; a++) {
      for (let b = a + 1; b < 7; b++)
        expect(Math.hypot(cs[a][0] - cs[b][0], cs[a][1] - cs[b][1])).toBeGreaterThan(
          1.5 * Math.max(spread(a), spread(b)),
        );
    }
  }
}, 120000);

test('small inputs: perplexity is lowered to (N - 1) / 3; identical points do not break the tree; bad input is refused', async () => {
  const few = await tsne(
    Float64Array.from({ length: 10 * 3 }, (_, t) => Math.sin(t)),
    10,
    3,
    { perplexity: 30, iterations: 100 },
  );
  expect(few.perplexity).toBeCloseTo(3, 10);
  const same = await tsne(new Float64Array(40 * 4).fill(1), 40, 4, { method: 'barnes-hut', iterations: 100 });
  expect(same.coords.every(Number.isFinite)).toBe(true);
  await expect(tsne([1, 2, 3], 1, 3)).rejects.toThrow(/at least 2 points/);
  await expect(tsne([1, NaN, 3, 4], 2, 2)).rejects.toThrow(/non-finite/);
});

test('knnAccuracy: leave-one-out vote of the nearest neighbours', () => {
  // Two tight pairs far apart, plus an odd one out next to the first pair.
  const coords = [0, 0, 0.1, 0, 10, 10, 10.1, 10, 0.05, 0.1];
  expect(knnAccuracy(coords, [0, 0, 1, 1, 1], 1)).toBeCloseTo(0.8, 10); // point 4 (label 1) sees label 0
  expect(knnAccuracy(coords, [0, 0, 1, 1, 0], 2)).toBe(1);
});

test('terminal scatter: one letter per class, majority per cell, no escape codes unless asked', () => {
  expect(classLetters([...DFEW_CLASSES])).toEqual(['H', 'S', 'N', 'A', 'U', 'D', 'F']);
  const lines = textScatter([0, 0, 0, 0, 1, 1, 1, 0], [0, 0, 1, 2], ['H', 'S', 'N'], { width: 4, height: 2 });
  expect(lines).toEqual(['+----+', '|   S|', '|H  N|', '+----+']);
  const coloured = textScatter([0, 0, 1, 1], [0, 1], ['H', 'S'], { width: 4, height: 2, colour: true });
  expect(coloured.join('')).toMatch(/\x1b\[38;2;/);
});

// ---------------------------------------------------------------------------------------------------------------
// The command's core on a prepared set

/** A prepared set whose clips differ: grey levels from the class and the clip, intensity in (0, 1). */
async function variedSet(clips: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dfer-tsne-set-'));
  const size = 16;
  const list: PreparedClip[] = [];
  for (let k = 0; k < clips; k++) {
    const id = String(k + 1).padStart(4, '0');
    const label = k % 7;
    const jpegs = await Promise.all(
      Array.from({ length: 8 }, (_, f) => {
        const data = new Uint8Array(size * size * 3);
        for (let p = 0; p < size * size; p++) {
          data[3 * p] = 20 + 30 * label;
          data[3 * p + 1] = (p % size) * 8 + f * 3 + k;
          data[3 * p + 2] = Math.floor(p / size) * 8 + ((7 * k) % 50);
        }
        return encodeJpeg({ width: size, height: size, data }, 95);
      }),
    );
    list.push({
      id,
      label,
      frames: 8,
      sourceFrames: 8,
      padded: 0,
      source: `gen/${id}`,
      intensity: ((k * 37) % 100) / 100,
      ...writeClip(dir, id, jpegs, size, size),
    });
  }
  const ids = list.map((c) => c.id);
  writeManifest(
    dir,
    newManifest({
      source: { path: 'generated', format: 'test' },
      classes: [...DFEW_CLASSES],
      settings: { size, quality: 95, frames: 8, minFrames: 0 },
      clips: list,
      folds: { '1': { train: ids.slice(0, 7), test: ids.slice(7) } },
      skipped: [],
    }),
  );
  return dir;
}

test('tsneRun: features of a split embedded, PNG + SVG + CSV written; --compare puts a baseline beside ours', async () => {
  await useBackend(TEST_BACKEND);
  const data = await variedSet(7 + 28);
  const work = mkdtempSync(join(tmpdir(), 'dfer-tsne-'));
  const config = createConfig('small', { frames: 4 });
  for (const [name, seed] of [
    ['ours', 1],
    ['baseline', 2],
  ] as const) {
    const model = createModel(config, seed);
    await saveCheckpoint(join(work, name), model);
    model.params.dispose();
  }
  const stages = new Set<string>();
  const run = await tsneRun({
    checkpoint: join(work, 'ours'),
    compare: join(work, 'baseline'),
    data,
    fold: '1',
    split: 'test',
    out: join(work, 'fig', 'tsne.png'),
    seed: 1,
    perplexity: 30,
    iterations: 250,
    maxPoints: 20,
    batchSize: 8,
    workers: 0,
    backend: TEST_BACKEND,
    onProgress: (stage) => stages.add(stage),
  });
  expect(run.splitClips).toBe(28);
  expect(run.ids).toHaveLength(20); // a seeded subset of --max-points
  expect(run.maps.map((m) => m.name)).toEqual(['baseline', 'ours']);
  expect(run.maps[0].perplexity).toBeCloseTo(19 / 3, 10);
  expect([...stages]).toEqual(
    expect.arrayContaining(['features baseline', 'features ours', 'embed baseline', 'embed ours']),
  );
  const base = join(work, 'fig', 'tsne');
  expect(run.files).toEqual([`${base}.png`, `${base}.svg`, `${base}.csv`]);
  for (const f of run.files) expect(existsSync(f)).toBe(true);

  const csv = readFileSync(`${base}.csv`, 'utf8').trim().split('\n');
  expect(csv[0]).toBe('id,class,label,intensity,baseline_x,baseline_y,x,y');
  expect(csv).toHaveLength(21);
  const row = csv[1].split(',');
  expect(DFEW_CLASSES).toContain(row[1]);
  expect(Number(row[3])).toBeGreaterThanOrEqual(0);
  expect(row.slice(4).every((v) => Number.isFinite(Number(v)))).toBe(true);

  const svg = readFileSync(`${base}.svg`, 'utf8');
  expect(svg.match(/<circle /g)!.length).toBeGreaterThanOrEqual(4 * 20); // 2 maps x (class + intensity)
  expect(svg).toContain('baseline: by intensity');
  expect(svg).toContain('happiness');
  const meta = await sharp(`${base}.png`).metadata();
  expect(meta.width).toBeGreaterThan(800);

  // Same options, same seed: the same coordinates.
  const again = await tsneRun({
    checkpoint: join(work, 'ours'),
    data,
    fold: '1',
    split: 'test',
    out: join(work, 'again'),
    seed: 1,
    perplexity: 30,
    iterations: 250,
    maxPoints: 20,
    batchSize: 8,
    workers: 0,
    backend: TEST_BACKEND,
  });
  expect(again.ids).toEqual(run.ids);
  expect(Array.from(again.maps[0].coords)).toEqual(Array.from(run.maps[1].coords));

  const view = tsneView(run, { width: 100 });
  expect(view.text.join('\n')).not.toMatch(/\x1b\[/);
  expect(view.text.some((l) => l.startsWith('baseline') && l.includes('ours'))).toBe(true); // side by side
  const json = view.json as {
    points: { x: number; baseline_x: number; intensity?: number }[];
    maps: { knn_accuracy: number }[];
  };
  expect(json.points).toHaveLength(20);
  expect(json.points[0].x).toBe(run.maps[1].coords[0]);
  expect(json.points[0].baseline_x).toBe(run.maps[0].coords[0]);
  expect(json.maps[1].knn_accuracy).toBeGreaterThanOrEqual(0);
}, 240000);

test('figureBase drops a figure extension and keeps other paths', () => {
  expect(figureBase('out/tsne.png')).toBe(join('out', 'tsne'));
  expect(figureBase('out/tsne.SVG')).toBe(join('out', 'tsne'));
  expect(figureBase('out/tsne')).toBe('out/tsne');
  expect(figureBase('out/fig.v2')).toBe('out/fig.v2');
});
