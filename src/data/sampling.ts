// Dynamic sampling of T = U x V frames from a clip of n frames (paper Sec. 3.2; dataset_DFEW.py of the official code).
// Train: U equal segments, a random start in each; test: the middle of each segment. V consecutive frames per start.
import type { Rng } from '../random.js';

export type SampleMode = 'train' | 'test';

/**
 * `official` reproduces the authors' code exactly, including its edge cases: a clip with n <= U + V - 1 frames is
 * sampled at index 0 in test mode (so a 16-frame clip becomes 16 copies of its first frame), and train mode falls back
 * to zeros when n <= U. `uniform` spreads indices over the clip in those cases instead (no repeated first frame).
 */
export const SAMPLING_RULES = ['official', 'uniform'] as const;
export type SamplingRule = (typeof SAMPLING_RULES)[number];

export interface SamplingSpec {
  u: number; // segments
  v: number; // consecutive frames per segment
  rule: SamplingRule;
}

export const DEFAULT_SAMPLING: SamplingSpec = { u: 16, v: 1, rule: 'official' };

/** Segment start offsets (length U). */
export function segmentStarts(n: number, mode: SampleMode, s: SamplingSpec, rng?: Rng): number[] {
  const { u, v } = s;
  const span = n - v + 1; // number of valid start positions
  if (mode === 'train') {
    if (!rng) throw new Error('train-mode sampling needs a seeded Rng');
    const d = Math.floor(span / u); // segment length
    if (d > 0) return Array.from({ length: u }, (_, i) => i * d + rng.int(d));
    if (n > u) return Array.from({ length: u }, () => rng.int(span)).sort((a, b) => a - b);
    return s.rule === 'official' ? new Array(u).fill(0) : spread(n, u);
  }
  if (n > u + v - 1) {
    const tick = span / u;
    return Array.from({ length: u }, (_, i) => Math.floor(tick / 2 + tick * i));
  }
  return s.rule === 'official' ? new Array(u).fill(0) : spread(n, u);
}

/** U starts spread evenly over n frames (n <= U: every frame, in order, the last ones repeated as needed). */
function spread(n: number, u: number): number[] {
  return Array.from({ length: u }, (_, i) => Math.min(n - 1, Math.floor((i * n) / u)));
}

/** The T = U x V frame indices: V consecutive frames from each start, clamped to the last frame. */
export function sampleFrameIndices(n: number, mode: SampleMode, s: SamplingSpec, rng?: Rng): number[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`cannot sample from a clip of ${n} frames`);
  return segmentStarts(n, mode, s, rng).flatMap((start) =>
    Array.from({ length: s.v }, (_, k) => Math.min(start + k, n - 1)),
  );
}
