// Following one face through a clip, from detections in some frames: pure functions, made-up detections.
import type { DetectedFace } from '../../src/faces/detector.js';
import { followFace, iou, trackFace } from '../../src/faces/track.js';

/** A face whose box is at (x, y), size s, eyes at a third and two thirds of its width, 40% down. */
const face = (x: number, y: number, s = 100): DetectedFace => ({
  box: [x, y, s, s],
  score: 0.9,
  leftEye: [x + s / 3, y + 0.4 * s],
  rightEye: [x + (2 * s) / 3, y + 0.4 * s],
});

test('iou', () => {
  expect(iou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
  expect(iou([0, 0, 10, 10], [5, 0, 10, 10])).toBeCloseTo(50 / 150);
  expect(iou([0, 0, 10, 10], [20, 20, 5, 5])).toBe(0);
});

test('the largest face first, then the one overlapping it: a larger second face does not take over', () => {
  const a = (x: number) => face(x, 100, 100);
  const b = face(400, 50, 160); // someone else, larger, from frame 2 on
  const picks = followFace([[a(100)], [a(110), b], [b, a(120)], [a(130)]]);
  expect(picks.map((p) => p?.box[0])).toEqual([100, 110, 120, 130]);
});

test('a face far from the followed one is someone else: a miss, until it has been missed long enough', () => {
  const two = [face(600, 100, 120), face(900, 100, 50)];
  const picks = followFace([[face(100, 100)], [face(100, 100), face(600, 100, 120)], two, two], { reacquireAfter: 1 });
  expect(picks.map((p) => p?.box[0] ?? null)).toEqual([100, 100, null, 600]);
  const strict = followFace(
    [[face(100, 100)], [face(600, 100, 120), face(900, 100, 50)], [face(600, 100, 120), face(900, 100, 50)]],
    { reacquireAfter: 5 },
  );
  expect(strict.map((p) => p?.box[0] ?? null)).toEqual([100, null, null]);
});

test('frames between detections are interpolated, ends copied from the nearest; coverage counts checked frames only', () => {
  const dets: (DetectedFace[] | undefined)[] = [
    undefined,
    [face(100, 100)],
    undefined,
    undefined,
    [],
    undefined,
    [face(140, 100)],
    undefined,
  ];
  const t = trackFace(dets, { smooth: 0 })!;
  expect(t.frames.map((f) => Math.round(f.box[0]))).toEqual([100, 100, 108, 116, 124, 132, 140, 140]);
  expect(t.frames.map((f) => f.detected)).toEqual([false, true, false, false, false, false, true, false]);
  expect([t.checked, t.found, t.coverage, t.filled]).toEqual([3, 2, 2 / 3, 6]);
});

test('across a cut (the face jumps by more than its eye distance) the nearer detection is held, not slid across', () => {
  const t = trackFace([[face(100, 100)], undefined, undefined, undefined, [face(500, 100)]], { smooth: 0 })!;
  expect(t.frames.map((f) => f.box[0])).toEqual([100, 100, 100, 500, 500]);
});

test('smoothing removes detector jitter: a face shaking by 4 px moves the crop far less', () => {
  const dets = Array.from({ length: 20 }, (_, i) => [face(100 + (i % 2 ? 4 : -4), 100)]);
  const t = trackFace(dets, { smooth: 2 })!;
  expect(t.jitter.raw).toBeCloseTo(8 / 33.33, 2);
  expect(t.jitter.smoothed).toBeLessThan(t.jitter.raw / 3);
  expect(trackFace([[], undefined, []])).toBeNull();
});
