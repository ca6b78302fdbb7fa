// t-SNE (van der Maaten & Hinton 2008): the 2-D maps of clip features in the paper's Fig. 4. Pure JavaScript on
// float64 arrays in a fixed order of operations, so that the same features and the same seed give the same map on
// every machine and backend. The steps, as in the reference implementations (tsne.m, bhtsne, scikit-learn):
//   1. PCA to 50 dimensions (randomized subspace iteration, seeded): 4096-D features cost the same as 50-D ones after.
//   2. Input affinities P: a Gaussian around each point whose bandwidth is found by binary search so that its entropy
//      is log(perplexity); symmetrised, P_ij = (p_j|i + p_i|j) / 2N. Exact: over all points; Barnes-Hut: over the
//      3 x perplexity nearest neighbours.
//   3. Gradient descent on KL(P || Q) with a Student-t Q: early exaggeration (P x 12 for 250 iterations, momentum
//      0.5), then momentum 0.8; per-coordinate gains (+0.2 / x0.8); learning rate max(N / 12 / 4, 50).
//      Exact: O(N^2) per iteration; Barnes-Hut: the repulsion of far cells through a quadtree (theta 0.5), O(N log N).
import { Rng } from '../random.js';

export type TsneMethod = 'exact' | 'barnes-hut';

export interface TsneOptions {
  /** Effective number of neighbours (default 30); lowered to (N - 1) / 3 for small N. */
  perplexity?: number;
  /** Gradient descent iterations (default 1000). */
  iterations?: number;
  /** P multiplier of the first `exaggerationIterations` (default 12 for 250 iterations). */
  earlyExaggeration?: number;
  exaggerationIterations?: number;
  /** Step size; default 'auto': max(N / earlyExaggeration / 4, 50). */
  learningRate?: number | 'auto';
  /** 'auto' (default): exact up to `exactMaxPoints` points, Barnes-Hut above. */
  method?: TsneMethod | 'auto';
  exactMaxPoints?: number;
  /** Barnes-Hut accuracy: a cell of width w at distance d is summarised when w / d < theta (default 0.5). */
  theta?: number;
  /** PCA to this many dimensions first (default 50; 0: none). */
  pcaDims?: number;
  /** Initial map: the first two principal components (default) or small Gaussian noise; both scaled to sd 1e-4. */
  init?: 'pca' | 'random';
  seed?: number;
  /** Progress of each stage; the detail of 'optimise' carries the KL divergence every 50 iterations. */
  onProgress?: (p: TsneProgress) => void;
}

export interface TsneProgress {
  stage: 'pca' | 'affinities' | 'optimise';
  done: number;
  total: number;
  kl?: number;
}

export interface TsneResult {
  /** (N, 2) row-major: x0, y0, x1, y1, ... */
  coords: Float64Array;
  n: number;
  method: TsneMethod;
  perplexity: number;
  iterations: number;
  learningRate: number;
  /** KL(P || Q) of the final map (Barnes-Hut: with Q's normaliser from the tree). */
  kl: number;
  seconds: number;
}

export const TSNE_DEFAULTS = {
  perplexity: 30,
  iterations: 1000,
  earlyExaggeration: 12,
  exaggerationIterations: 250,
  exactMaxPoints: 1000,
  theta: 0.5,
  pcaDims: 50,
  init: 'pca' as 'pca' | 'random',
  seed: 1,
};

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

// ---------------------------------------------------------------------------------------------------------------
// 1. PCA

/**
 * Orthonormalises the k rows (each of length len) of a row-major matrix in place: modified Gram-Schmidt, applied
 * twice. A row in the span of the previous ones (rank < k) becomes zero.
 */
function orthonormaliseRows(a: Float64Array, k: number, len: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let c = 0; c < k; c++) {
      const co = c * len;
      let before = 0;
      for (let t = 0; t < len; t++) before += a[co + t] * a[co + t];
      for (let p = 0; p < c; p++) {
        const po = p * len;
        let dot = 0;
        for (let t = 0; t < len; t++) dot += a[co + t] * a[po + t];
        for (let t = 0; t < len; t++) a[co + t] -= dot * a[po + t];
      }
      let norm = 0;
      for (let t = 0; t < len; t++) norm += a[co + t] * a[co + t];
      const f = norm > 1e-20 * before && norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let t = 0; t < len; t++) a[co + t] *= f;
    }
  }
}

/**
 * out (ra, rb) = A (ra, len) . B (rb, len)^T: dot products of rows, 2 x 4 blocks held in registers (about twice the
 * speed of the plain loop in V8).
 */
function dotRows(a: Float64Array, ra: number, b: Float64Array, rb: number, len: number): Float64Array {
  const out = new Float64Array(ra * rb);
  const dot = (r: number, s: number) => {
    let sum = 0;
    for (let t = 0, x = r * len, y = s * len; t < len; t++) sum += a[x + t] * b[y + t];
    return sum;
  };
  const ra2 = ra - (ra % 2);
  const rb4 = rb - (rb % 4);
  for (let r = 0; r < ra2; r += 2) {
    const x0 = r * len;
    const x1 = x0 + len;
    for (let s = 0; s < rb4; s += 4) {
      const w0 = s * len;
      const w1 = w0 + len;
      const w2 = w1 + len;
      const w3 = w2 + len;
      let a00 = 0,
        a01 = 0,
        a02 = 0,
        a03 = 0,
        a10 = 0,
        a11 = 0,
        a12 = 0,
        a13 = 0;
      for (let t = 0; t < len; t++) {
        const u = a[x0 + t];
        const v = a[x1 + t];
        const p = b[w0 + t];
        const q = b[w1 + t];
        const g = b[w2 + t];
        const h = b[w3 + t];
        a00 += u * p;
        a01 += u * q;
        a02 += u * g;
        a03 += u * h;
        a10 += v * p;
        a11 += v * q;
        a12 += v * g;
        a13 += v * h;
      }
      out.set([a00, a01, a02, a03], r * rb + s);
      out.set([a10, a11, a12, a13], (r + 1) * rb + s);
    }
    for (let s = rb4; s < rb; s++) {
      out[r * rb + s] = dot(r, s);
      out[(r + 1) * rb + s] = dot(r + 1, s);
    }
  }
  for (let r = ra2; r < ra; r++) for (let s = 0; s < rb; s++) out[r * rb + s] = dot(r, s);
  return out;
}

/** out (k, len) = C (k, m) . X (m, len): rows of X combined, 4 rows of X x 2 rows of out per sweep. */
function combineRows(c: Float64Array, k: number, m: number, x: Float64Array, len: number): Float64Array {
  const out = new Float64Array(k * len);
  const m4 = m - (m % 4);
  const k2 = k - (k % 2);
  for (let i = 0; i < m4; i += 4) {
    const x0 = i * len;
    const x1 = x0 + len;
    const x2 = x1 + len;
    const x3 = x2 + len;
    for (let r = 0; r < k2; r += 2) {
      const o0 = r * len;
      const o1 = o0 + len;
      const a0 = c[r * m + i],
        a1 = c[r * m + i + 1],
        a2 = c[r * m + i + 2],
        a3 = c[r * m + i + 3];
      const b0 = c[(r + 1) * m + i],
        b1 = c[(r + 1) * m + i + 1],
        b2 = c[(r + 1) * m + i + 2],
        b3 = c[(r + 1) * m + i + 3];
      for (let t = 0; t < len; t++) {
        const u0 = x[x0 + t];
        const u1 = x[x1 + t];
        const u2 = x[x2 + t];
        const u3 = x[x3 + t];
        out[o0 + t] += a0 * u0 + a1 * u1 + a2 * u2 + a3 * u3;
        out[o1 + t] += b0 * u0 + b1 * u1 + b2 * u2 + b3 * u3;
      }
    }
    for (let r = k2; r < k; r++) {
      for (let t = 0; t < len; t++)
        out[r * len + t] +=
          c[r * m + i] * x[x0 + t] +
          c[r * m + i + 1] * x[x1 + t] +
          c[r * m + i + 2] * x[x2 + t] +
          c[r * m + i + 3] * x[x3 + t];
    }
  }
  for (let i = m4; i < m; i++)
    for (let r = 0; r < k; r++) for (let t = 0; t < len; t++) out[r * len + t] += c[r * m + i] * x[i * len + t];
  return out;
}

/** Eigen-decomposition of a symmetric (k, k) matrix (cyclic Jacobi): eigenvalues descending, eigenvectors as columns. */
export function symmetricEigen(m: Float64Array, k: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(m);
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < k; i++) {
      diag += a[i * k + i] ** 2;
      for (let j = i + 1; j < k; j++) off += a[i * k + j] ** 2;
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < k; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = a[p * k + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * k + q] - a[p * k + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) {
          const arp = a[r * k + p];
          const arq = a[r * k + q];
          a[r * k + p] = c * arp - s * arq;
          a[r * k + q] = s * arp + c * arq;
        }
        for (let r = 0; r < k; r++) {
          const apr = a[p * k + r];
          const aqr = a[q * k + r];
          a[p * k + r] = c * apr - s * aqr;
          a[q * k + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r * k + p];
          const vrq = v[r * k + q];
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const order = Array.from({ length: k }, (_, i) => i).sort((x, y) => a[y * k + y] - a[x * k + x] || x - y);
  const values = Float64Array.from(order, (i) => a[i * k + i]);
  const vectors = new Float64Array(k * k);
  order.forEach((src, dst) => {
    for (let r = 0; r < k; r++) vectors[r * k + dst] = v[r * k + src];
  });
  return { values, vectors };
}

/**
 * The scores of the first `k` principal components of the (n, d) row-major data: (n, k), row-major, components by
 * decreasing variance, each with its sign fixed (largest |score| positive) so the result does not depend on the
 * arbitrary sign of an eigenvector. Randomized subspace iteration (Halko, Martinsson & Tropp 2011) with
 * `powerIterations` passes (default 2): the top components of 4096-D features in a few passes over the data.
 */
export function pca(
  data: ArrayLike<number>,
  n: number,
  d: number,
  k: number,
  opts: { seed?: number; powerIterations?: number; onPass?: (done: number, total: number) => void } = {},
): Float64Array {
  if (data.length !== n * d) throw new Error(`pca: expected ${n} x ${d} = ${n * d} values, got ${data.length}`);
  k = Math.min(k, n, d);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) mean[t] += data[i * d + t];
  for (let t = 0; t < d; t++) mean[t] /= n;
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) x[i * d + t] = data[i * d + t] - mean[t];

  const kk = Math.min(k + 10, n, d); // oversampled subspace
  const q = opts.powerIterations ?? 2;
  const passes = 2 + 2 * q;
  let pass = 0;
  const tick = () => opts.onPass?.(++pass, passes);
  // Subspaces as rows: w (kk, d) in feature space, basis (kk, n) in sample space.
  const sampleSpace = (w: Float64Array) => {
    const y = dotRows(w, kk, x, n, d); // (kk, n) = w x^T
    orthonormaliseRows(y, kk, n);
    tick();
    return y;
  };
  const featureSpace = (basis: Float64Array) => {
    const w = combineRows(basis, kk, n, x, d); // (kk, d) = basis x
    tick();
    return w;
  };
  const rng = new Rng(opts.seed ?? 1);
  let basis = sampleSpace(Float64Array.from({ length: kk * d }, () => rng.normal()));
  for (let it = 0; it < q; it++) {
    const w = featureSpace(basis);
    orthonormaliseRows(w, kk, d);
    basis = sampleSpace(w);
  }
  // b = basis x (kk, d) = U S V^T; c = b b^T = U S^2 U^T; the scores x V ~ basis^T b V = basis^T U S.
  const b = featureSpace(basis);
  const { values, vectors } = symmetricEigen(dotRows(b, kk, b, kk, d), kk);
  const scores = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let a = 0; a < kk; a++) s += basis[a * n + i] * vectors[a * kk + j];
      scores[i * k + j] = s;
    }
  }
  for (let j = 0; j < k; j++) {
    let extreme = 0;
    for (let i = 0; i < n; i++) if (Math.abs(scores[i * k + j]) > Math.abs(extreme)) extreme = scores[i * k + j];
    const f = Math.sqrt(Math.max(values[j], 0)) * (extreme < 0 ? -1 : 1);
    for (let i = 0; i < n; i++) scores[i * k + j] *= f;
  }
  return scores;
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Input affinities

/**
 * p_j|i over the candidates of row i, from their squared distances: the Gaussian bandwidth found by binary search on
 * beta = 1 / (2 sigma^2) so that the entropy is log(perplexity). Writes the normalised row into `out`.
 */
function calibrateRow(dist: Float64Array, m: number, perplexity: number, out: Float64Array): void {
  const target = Math.log(perplexity);
  let min = Infinity;
  let mean = 0;
  for (let j = 0; j < m; j++) {
    if (dist[j] < min) min = dist[j];
    mean += dist[j];
  }
  mean = mean / m - min;
  // Distances shifted by the row's minimum: the same P and entropy, no underflow for far-apart high-dim points.
  let beta = mean > 0 ? 1 / mean : 1;
  let lo = -Infinity;
  let hi = Infinity;
  for (let step = 0; step < 200; step++) {
    let sum = 0;
    let weighted = 0;
    for (let j = 0; j < m; j++) {
      const dj = dist[j] - min;
      const p = Math.exp(-beta * dj);
      out[j] = p;
      sum += p;
      weighted += dj * p;
    }
    const entropy = Math.log(sum) + (beta * weighted) / sum;
    const diff = entropy - target;
    if (Math.abs(diff) < 1e-5) break;
    if (diff > 0) {
      lo = beta;
      beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
    } else {
      hi = beta;
      beta = lo === -Infinity ? beta / 2 : (beta + lo) / 2;
    }
  }
  let sum = 0;
  for (let j = 0; j < m; j++) sum += out[j];
  for (let j = 0; j < m; j++) out[j] /= sum;
}

const sqDist = (x: Float64Array, d: number, i: number, j: number) => {
  let s = 0;
  const a = i * d;
  const b = j * d;
  for (let t = 0; t < d; t++) {
    const v = x[a + t] - x[b + t];
    s += v * v;
  }
  return s;
};

/** Dense symmetric P (n, n), summing to 1. */
function exactAffinities(
  x: Float64Array,
  n: number,
  d: number,
  perplexity: number,
  progress: (done: number) => void,
): Float64Array {
  const p = new Float64Array(n * n);
  const dist = new Float64Array(n - 1);
  const row = new Float64Array(n - 1);
  for (let i = 0; i < n; i++) {
    for (let j = 0, m = 0; j < n; j++) if (j !== i) dist[m++] = sqDist(x, d, i, j);
    calibrateRow(dist, n - 1, perplexity, row);
    for (let j = 0, m = 0; j < n; j++) if (j !== i) p[i * n + j] = row[m++];
    if (i % 256 === 255) progress(i + 1);
  }
  const norm = 2 * n;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = Math.max((p[i * n + j] + p[j * n + i]) / norm, 1e-12);
      p[i * n + j] = v;
      p[j * n + i] = v;
    }
  }
  return p;
}

/** Sparse symmetric P over nearest neighbours, in CSR form (rows sorted by column), summing to 1. */
interface SparseP {
  rowStart: Int32Array; // n + 1
  col: Int32Array;
  val: Float64Array;
}

function sparseAffinities(
  x: Float64Array,
  n: number,
  d: number,
  perplexity: number,
  progress: (done: number) => void,
): SparseP {
  const k = Math.min(n - 1, Math.floor(3 * perplexity));
  const nbr = new Int32Array(n * k);
  const cond = new Float64Array(n * k);
  // k nearest neighbours by brute force with a bounded max-heap per row (ties broken by index, so deterministic).
  const heapD = new Float64Array(k);
  const heapI = new Int32Array(k);
  const dist = new Float64Array(k);
  const row = new Float64Array(k);
  const worse = (a: number, b: number) => heapD[a] > heapD[b] || (heapD[a] === heapD[b] && heapI[a] > heapI[b]);
  const swap = (a: number, b: number) => {
    const td = heapD[a];
    heapD[a] = heapD[b];
    heapD[b] = td;
    const ti = heapI[a];
    heapI[a] = heapI[b];
    heapI[b] = ti;
  };
  const siftDown = (size: number) => {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < size && worse(l, top)) top = l;
      if (r < size && worse(r, top)) top = r;
      if (top === i) return;
      swap(i, top);
      i = top;
    }
  };
  for (let i = 0; i < n; i++) {
    let size = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const dj = sqDist(x, d, i, j);
      if (size < k) {
        heapD[size] = dj;
        heapI[size] = j;
        let c = size++;
        while (c > 0) {
          const parent = (c - 1) >> 1;
          if (!worse(c, parent)) break;
          swap(c, parent);
          c = parent;
        }
      } else if (dj < heapD[0] || (dj === heapD[0] && j < heapI[0])) {
        heapD[0] = dj;
        heapI[0] = j;
        siftDown(size);
      }
    }
    for (let m = 0; m < k; m++) {
      dist[m] = heapD[m];
      nbr[i * k + m] = heapI[m];
    }
    calibrateRow(dist, k, perplexity, row);
    cond.set(row, i * k);
    if (i % 256 === 255) progress(i + 1);
  }
  // Symmetrise: P_ij = (p_j|i + p_i|j) / 2N over the union of both neighbour lists.
  const counts = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let m = 0; m < k; m++) {
      counts[i]++;
      counts[nbr[i * k + m]]++;
    }
  }
  const start = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) start[i + 1] = start[i] + counts[i];
  const fill = start.slice(0, n);
  const cols = new Int32Array(start[n]);
  const vals = new Float64Array(start[n]);
  for (let i = 0; i < n; i++) {
    for (let m = 0; m < k; m++) {
      const j = nbr[i * k + m];
      const v = cond[i * k + m];
      cols[fill[i]] = j;
      vals[fill[i]++] = v;
      cols[fill[j]] = i;
      vals[fill[j]++] = v;
    }
  }
  // Sort each row by column and merge duplicates (a pair that is a neighbour both ways).
  const rowStart = new Int32Array(n + 1);
  const outCol: number[] = [];
  const outVal: number[] = [];
  const norm = 2 * n;
  for (let i = 0; i < n; i++) {
    const idx = Array.from({ length: start[i + 1] - start[i] }, (_, t) => start[i] + t).sort(
      (a, b) => cols[a] - cols[b],
    );
    let last = -1;
    for (const t of idx) {
      if (cols[t] === last) outVal[outVal.length - 1] += vals[t] / norm;
      else {
        outCol.push(cols[t]);
        outVal.push(vals[t] / norm);
        last = cols[t];
      }
    }
    rowStart[i + 1] = outCol.length;
  }
  return { rowStart, col: Int32Array.from(outCol), val: Float64Array.from(outVal) };
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Gradients of KL(P || Q)

/** Exact gradient (4 (p_ij - q_ij) w_ij (y_i - y_j) summed over j) into `grad`; returns KL when asked. */
function exactGradient(
  p: Float64Array,
  y: Float64Array,
  n: number,
  exaggeration: number,
  grad: Float64Array,
  rep: Float64Array,
  withKl: boolean,
): number {
  grad.fill(0);
  rep.fill(0);
  let z = 0;
  for (let i = 0; i < n; i++) {
    const yix = y[2 * i];
    const yiy = y[2 * i + 1];
    let ax = 0;
    let ay = 0;
    let rx = 0;
    let ry = 0;
    const po = i * n;
    for (let j = i + 1; j < n; j++) {
      const dx = yix - y[2 * j];
      const dy = yiy - y[2 * j + 1];
      const w = 1 / (1 + dx * dx + dy * dy);
      z += w;
      const a = p[po + j] * exaggeration * w;
      const r = w * w;
      ax += a * dx;
      ay += a * dy;
      rx += r * dx;
      ry += r * dy;
      grad[2 * j] -= a * dx;
      grad[2 * j + 1] -= a * dy;
      rep[2 * j] -= r * dx;
      rep[2 * j + 1] -= r * dy;
    }
    grad[2 * i] += ax;
    grad[2 * i + 1] += ay;
    rep[2 * i] += rx;
    rep[2 * i + 1] += ry;
  }
  z *= 2;
  for (let t = 0; t < 2 * n; t++) grad[t] = 4 * (grad[t] - rep[t] / z);
  if (!withKl) return NaN;
  let kl = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = y[2 * i] - y[2 * j];
      const dy = y[2 * i + 1] - y[2 * j + 1];
      const q = 1 / (1 + dx * dx + dy * dy) / z;
      const pij = p[i * n + j];
      kl += 2 * pij * Math.log(pij / Math.max(q, 1e-300));
    }
  }
  return kl;
}

/**
 * A quadtree over the map, rebuilt every iteration, in flat arrays: per node its bounds (centre and half width), the
 * number of points and the sum of their coordinates (centre of mass), its first child (4 consecutive nodes, -1 for a
 * leaf) and, for a leaf, its point (or a list of coincident points at the depth limit).
 */
class QuadTree {
  private cap = 0;
  size = 0;
  cx = new Float64Array(0);
  cy = new Float64Array(0);
  half = new Float64Array(0);
  count = new Int32Array(0);
  sx = new Float64Array(0);
  sy = new Float64Array(0);
  child = new Int32Array(0);
  point = new Int32Array(0);
  next: Int32Array;
  // Filled by the gradient after each build.
  comx = new Float64Array(0);
  comy = new Float64Array(0);
  far = new Float64Array(0);
  static readonly MAX_DEPTH = 48;

  constructor(n: number) {
    this.next = new Int32Array(n);
    this.grow(Math.max(16, 4 * n));
  }

  private grow(cap: number): void {
    const copy = <T extends Float64Array | Int32Array>(a: T, make: (k: number) => T): T => {
      const b = make(cap);
      b.set(a.subarray(0, this.size));
      return b;
    };
    const f = (k: number) => new Float64Array(k);
    const i32 = (k: number) => new Int32Array(k);
    this.cx = copy(this.cx, f);
    this.cy = copy(this.cy, f);
    this.half = copy(this.half, f);
    this.count = copy(this.count, i32);
    this.sx = copy(this.sx, f);
    this.sy = copy(this.sy, f);
    this.child = copy(this.child, i32);
    this.point = copy(this.point, i32);
    this.cap = cap;
  }

  private node(cx: number, cy: number, half: number): number {
    if (this.size === this.cap) this.grow(this.cap * 2);
    const k = this.size++;
    this.cx[k] = cx;
    this.cy[k] = cy;
    this.half[k] = half;
    this.count[k] = 0;
    this.sx[k] = 0;
    this.sy[k] = 0;
    this.child[k] = -1;
    this.point[k] = -1;
    return k;
  }

  private quadrant(k: number, x: number, y: number): number {
    return this.child[k] + (x >= this.cx[k] ? 1 : 0) + (y >= this.cy[k] ? 2 : 0);
  }

  build(y: Float64Array, n: number): void {
    this.size = 0;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let i = 0; i < n; i++) {
      minX = Math.min(minX, y[2 * i]);
      maxX = Math.max(maxX, y[2 * i]);
      minY = Math.min(minY, y[2 * i + 1]);
      maxY = Math.max(maxY, y[2 * i + 1]);
    }
    const half = Math.max(maxX - minX, maxY - minY, 1e-12) / 2 + 1e-5;
    this.node((minX + maxX) / 2, (minY + maxY) / 2, half);
    for (let i = 0; i < n; i++) this.insert(i, y[2 * i], y[2 * i + 1]);
  }

  private insert(i: number, x: number, y: number): void {
    let k = 0;
    for (let depth = 0; ; depth++) {
      const before = this.count[k];
      this.count[k]++;
      this.sx[k] += x;
      this.sy[k] += y;
      if (this.child[k] === -1) {
        if (before === 0) {
          this.point[k] = i;
          this.next[i] = -1;
          return;
        }
        if (depth >= QuadTree.MAX_DEPTH) {
          this.next[i] = this.point[k];
          this.point[k] = i;
          return;
        }
        // Split: four children, and the resident point moves into its quadrant.
        const h = this.half[k] / 2;
        const first = this.node(this.cx[k] - h, this.cy[k] - h, h);
        this.node(this.cx[k] + h, this.cy[k] - h, h);
        this.node(this.cx[k] - h, this.cy[k] + h, h);
        this.node(this.cx[k] + h, this.cy[k] + h, h);
        this.child[k] = first;
        const resident = this.point[k];
        this.point[k] = -1;
        const rx = this.sx[k] - x; // the resident's coordinates (the node held it alone)
        const ry = this.sy[k] - y;
        const c = this.quadrant(k, rx, ry);
        this.count[c] = 1;
        this.sx[c] = rx;
        this.sy[c] = ry;
        this.point[c] = resident;
      }
      k = this.quadrant(k, x, y);
    }
  }
}

/** Barnes-Hut gradient into `grad`; returns the normaliser Z (and KL over P's support when asked). */
function barnesHutGradient(
  p: SparseP,
  y: Float64Array,
  n: number,
  exaggeration: number,
  theta: number,
  tree: QuadTree,
  grad: Float64Array,
  rep: Float64Array,
  stack: Int32Array,
  withKl: boolean,
): number {
  tree.build(y, n);
  // Per node: centre of mass, and the squared distance beyond which it is summarised: width / d < theta.
  const { count, child, point, next, size } = tree;
  const comx = tree.comx.length >= size ? tree.comx : (tree.comx = new Float64Array(tree.cx.length));
  const comy = tree.comy.length >= size ? tree.comy : (tree.comy = new Float64Array(tree.cx.length));
  const far = tree.far.length >= size ? tree.far : (tree.far = new Float64Array(tree.cx.length));
  for (let k = 0; k < size; k++) {
    const c = count[k] || 1;
    comx[k] = tree.sx[k] / c;
    comy[k] = tree.sy[k] / c;
    far[k] = (2 * tree.half[k]) ** 2 / (theta * theta);
  }
  let z = 0;
  for (let i = 0; i < n; i++) {
    const yix = y[2 * i];
    const yiy = y[2 * i + 1];
    let rx = 0;
    let ry = 0;
    let top = 0;
    stack[top++] = 0;
    while (top > 0) {
      const k = stack[--top];
      let c = count[k];
      let dx = yix - comx[k];
      let dy = yiy - comy[k];
      let d2 = dx * dx + dy * dy;
      const first = child[k];
      if (first === -1) {
        if (c > 1 || point[k] === i) {
          // Leave the point itself out (it may share a depth-limited leaf with coincident points).
          let self = false;
          for (let t = point[k]; t !== -1; t = next[t]) if (t === i) self = true;
          if (self) {
            if (c === 1) continue;
            const mx = (comx[k] * c - yix) / (c - 1);
            const my = (comy[k] * c - yiy) / (c - 1);
            c -= 1;
            dx = yix - mx;
            dy = yiy - my;
            d2 = dx * dx + dy * dy;
          }
        }
      } else if (d2 <= far[k]) {
        for (let q = first; q < first + 4; q++) if (count[q] > 0) stack[top++] = q;
        continue;
      }
      const w = 1 / (1 + d2);
      z += c * w;
      const r = c * w * w;
      rx += r * dx;
      ry += r * dy;
    }
    rep[2 * i] = rx;
    rep[2 * i + 1] = ry;
  }
  let kl = 0;
  for (let i = 0; i < n; i++) {
    let ax = 0;
    let ay = 0;
    for (let e = p.rowStart[i]; e < p.rowStart[i + 1]; e++) {
      const j = p.col[e];
      const dx = y[2 * i] - y[2 * j];
      const dy = y[2 * i + 1] - y[2 * j + 1];
      const w = 1 / (1 + dx * dx + dy * dy);
      const a = p.val[e] * exaggeration * w;
      ax += a * dx;
      ay += a * dy;
      if (withKl) kl += p.val[e] * Math.log(p.val[e] / Math.max(w / z, 1e-300));
    }
    grad[2 * i] = 4 * (ax - rep[2 * i] / z);
    grad[2 * i + 1] = 4 * (ay - rep[2 * i + 1] / z);
  }
  return withKl ? kl : NaN;
}

// ---------------------------------------------------------------------------------------------------------------
// The whole embedding

/** Embeds the rows of the (n, d) row-major data in 2-D. */
export async function tsne(
  data: ArrayLike<number>,
  n: number,
  d: number,
  options: TsneOptions = {},
): Promise<TsneResult> {
  const started = Date.now();
  const o = {
    ...TSNE_DEFAULTS,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as typeof TSNE_DEFAULTS & TsneOptions;
  if (data.length !== n * d) throw new Error(`tsne: expected ${n} x ${d} = ${n * d} values, got ${data.length}`);
  if (n < 2) throw new Error(`tsne: needs at least 2 points, got ${n}`);
  for (let t = 0; t < data.length; t++)
    if (!Number.isFinite(data[t])) throw new Error(`tsne: point ${Math.floor(t / d)} has a non-finite value`);
  if (!(o.perplexity > 0)) throw new Error(`tsne: perplexity must be positive, got ${o.perplexity}`);
  const perplexity = Math.max(1, Math.min(o.perplexity, (n - 1) / 3));
  const method: TsneMethod =
    o.method === 'exact' || o.method === 'barnes-hut' ? o.method : n <= o.exactMaxPoints ? 'exact' : 'barnes-hut';
  const iterations = o.iterations;
  const exaggerationIterations = Math.min(o.exaggerationIterations, iterations);
  const learningRate =
    o.learningRate === undefined || o.learningRate === 'auto'
      ? Math.max(n / o.earlyExaggeration / 4, 50)
      : o.learningRate;
  const report = o.onProgress ?? (() => {});

  // 1. PCA (always centres; reduces when d > pcaDims).
  let x: Float64Array;
  let dim: number;
  const pcaDims = o.pcaDims > 0 ? Math.min(o.pcaDims, d) : d;
  if (pcaDims < d) {
    x = pca(data, n, d, pcaDims, { seed: o.seed, onPass: (done, total) => report({ stage: 'pca', done, total }) });
    dim = Math.min(pcaDims, n);
  } else {
    x = Float64Array.from(data as ArrayLike<number>);
    dim = d;
  }
  await yieldToEventLoop();

  // 2. Affinities.
  report({ stage: 'affinities', done: 0, total: n });
  const progressRows = (done: number) => report({ stage: 'affinities', done, total: n });
  const pDense = method === 'exact' ? exactAffinities(x, n, dim, perplexity, progressRows) : undefined;
  const pSparse = method === 'barnes-hut' ? sparseAffinities(x, n, dim, perplexity, progressRows) : undefined;
  report({ stage: 'affinities', done: n, total: n });
  await yieldToEventLoop();

  // Initial map, sd 1e-4 along its first axis.
  const y = new Float64Array(2 * n);
  if (o.init === 'random') {
    const rng = new Rng(o.seed);
    for (let t = 0; t < 2 * n; t++) y[t] = 1e-4 * rng.normal();
  } else {
    const init =
      dim >= 2
        ? pca(x, n, dim, 2, { seed: o.seed })
        : Float64Array.from({ length: 2 * n }, (_, t) => (t % 2 === 0 ? x[t / 2] : 0));
    let m = 0;
    for (let i = 0; i < n; i++) m += init[2 * i];
    m /= n;
    let sd = 0;
    for (let i = 0; i < n; i++) sd += (init[2 * i] - m) ** 2;
    sd = Math.sqrt(sd / n) || 1;
    for (let t = 0; t < 2 * n; t++) y[t] = (1e-4 * init[t]) / sd;
  }

  // 3. Gradient descent with momentum and gains.
  const grad = new Float64Array(2 * n);
  const rep = new Float64Array(2 * n);
  const update = new Float64Array(2 * n);
  const gains = new Float64Array(2 * n).fill(1);
  const tree = method === 'barnes-hut' ? new QuadTree(n) : undefined;
  const stack = new Int32Array(4 * QuadTree.MAX_DEPTH * 4 + 64);
  let kl = NaN;
  let lastYield = Date.now();
  for (let it = 0; it < iterations; it++) {
    const exaggerating = it < exaggerationIterations;
    const exaggeration = exaggerating ? o.earlyExaggeration : 1;
    const momentum = exaggerating ? 0.5 : 0.8;
    const withKl = it === iterations - 1 || (it + 1) % 50 === 0;
    const cost = pDense
      ? exactGradient(pDense, y, n, exaggeration, grad, rep, withKl)
      : barnesHutGradient(pSparse!, y, n, exaggeration, o.theta, tree!, grad, rep, stack, withKl);
    for (let t = 0; t < 2 * n; t++) {
      const g = grad[t];
      gains[t] = Math.sign(g) !== Math.sign(update[t]) ? gains[t] + 0.2 : Math.max(gains[t] * 0.8, 0.01);
      update[t] = momentum * update[t] - learningRate * gains[t] * g;
      y[t] += update[t];
    }
    let mx = 0;
    let my = 0;
    for (let i = 0; i < n; i++) {
      mx += y[2 * i];
      my += y[2 * i + 1];
    }
    mx /= n;
    my /= n;
    for (let i = 0; i < n; i++) {
      y[2 * i] -= mx;
      y[2 * i + 1] -= my;
    }
    if (withKl) {
      // With exaggeration the cost is of the exaggerated P; report the plain KL only after it.
      kl = exaggerating ? NaN : cost;
      report({ stage: 'optimise', done: it + 1, total: iterations, ...(exaggerating ? {} : { kl }) });
    } else if ((it & 7) === 7) report({ stage: 'optimise', done: it + 1, total: iterations });
    if (Date.now() - lastYield > 50) {
      await yieldToEventLoop(); // let a progress bar redraw
      lastYield = Date.now();
    }
  }
  for (let t = 0; t < 2 * n; t++) {
    if (!Number.isFinite(y[t]))
      throw new Error('tsne: the embedding diverged (non-finite coordinates); try a lower learning rate');
  }
  return { coords: y, n, method, perplexity, iterations, learningRate, kl, seconds: (Date.now() - started) / 1000 };
}

// ---------------------------------------------------------------------------------------------------------------
// How well a map keeps the classes apart

/**
 * Leave-one-out k-nearest-neighbour accuracy of the labels in the map: the share of points whose k nearest others
 * (Euclidean; ties by index) vote for their own label (a tie in the vote goes to the nearest of the tied labels).
 */
export function knnAccuracy(coords: ArrayLike<number>, labels: ArrayLike<number>, k = 10, dim = 2): number {
  const n = labels.length;
  if (n < 2) return NaN;
  k = Math.min(k, n - 1);
  let right = 0;
  const nd = new Float64Array(k); // the k nearest so far, ascending (distance, index)
  const ni = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    let size = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let s = 0;
      for (let t = 0; t < dim; t++) s += (coords[i * dim + t] - coords[j * dim + t]) ** 2;
      if (size === k && s >= nd[k - 1]) continue; // ties keep the lower index (seen first)
      let pos = size < k ? size++ : k - 1;
      while (pos > 0 && nd[pos - 1] > s) {
        nd[pos] = nd[pos - 1];
        ni[pos] = ni[pos - 1];
        pos--;
      }
      nd[pos] = s;
      ni[pos] = j;
    }
    const votes = new Map<number, number>();
    for (let m = 0; m < size; m++) votes.set(labels[ni[m]], (votes.get(labels[ni[m]]) ?? 0) + 1);
    const best = Math.max(...votes.values());
    let winner = -1;
    for (let m = 0; m < size && winner < 0; m++) if (votes.get(labels[ni[m]]) === best) winner = ni[m];
    if (labels[winner] === labels[i]) right++;
  }
  return right / n;
}
