// The few distributions the generator draws from, on top of Rng (src/random.ts) so that every draw follows --seed.
import { mixSeed, Rng } from '../random.js';

/** A generator for one component of one clip (or identity), independent of every other draw. */
export function streamFor(seed: number, ...parts: number[]): Rng {
  return new Rng(mixSeed(seed, ...parts));
}

/** Gamma(k, 1) by Marsaglia and Tsang (k < 1 by the boost U^(1/k)). */
export function gamma(rng: Rng, k: number): number {
  if (!(k > 0)) throw new RangeError(`gamma shape must be > 0, got ${k}`);
  if (k < 1) return gamma(rng, k + 1) * (1 - rng.next()) ** (1 / k);
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next(); // (0, 1]
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(a, b) as G_a / (G_a + G_b). */
export function beta(rng: Rng, a: number, b: number): number {
  const x = gamma(rng, a);
  const y = gamma(rng, b);
  return x / (x + y);
}

/** The regularised incomplete beta function I_x(a, b) by numerical integration (documentation and tests only). */
export function betaCdf(x: number, a: number, b: number, steps = 20000): number {
  // Midpoint rule on the density, normalised by the same rule over [0, 1] (avoids the Beta function itself).
  const dens = (t: number) => t ** (a - 1) * (1 - t) ** (b - 1);
  let part = 0;
  let total = 0;
  for (let i = 0; i < steps; i++) {
    const t = (i + 0.5) / steps;
    const d = dens(t);
    total += d;
    if (t < x) part += d;
  }
  return part / total;
}

/** A value in [lo, hi] (uniform). */
export const between = (rng: Rng, lo: number, hi: number) => rng.uniform(lo, hi);

/** +1 or -1. */
export const sign = (rng: Rng) => (rng.next() < 0.5 ? -1 : 1);

/** One item of a list, by weights (need not sum to 1). */
export function pick<T>(rng: Rng, items: readonly T[], weights?: readonly number[]): T {
  if (!weights) return items[rng.int(items.length)];
  const total = weights.reduce((a, b) => a + b, 0);
  let r = rng.next() * total;
  for (let i = 0; i < items.length; i++) {
    r -= weights[i];
    if (r < 0) return items[i];
  }
  return items[items.length - 1];
}

export const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : Math.min(v, hi));

/** Hermite smoothstep on [0, 1]: the ease of expression onsets and offsets. */
export function smoothstep(t: number): number {
  const x = clamp(t, 0, 1);
  return x * x * (3 - 2 * x);
}
