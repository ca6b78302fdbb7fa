// `dfer predict` on videos: the expression timeline of a real face video (faces found, windows, JSON, CSV, figure),
// a video without a face (exit 7), and a synthetic clip classified the same from its .mp4 as from its frames.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findFfmpeg } from '../../src/video/ffmpeg.js';
import { GOLDEN_WEIGHTS } from '../helpers/golden.js';
import { dfer, json, tmpDir } from './run.js';
import { TEST_BACKEND } from '../helpers/backend.js';

const VIDEO = join(GOLDEN_WEIGHTS, '..', '..', '..', 'fixtures', 'video', 'Megamind.avi');
const tmp = tmpDir();
const ckpt = join(tmp.path, 'paper');
const B = ['--backend', TEST_BACKEND];

interface VideoJson {
  classes: string[];
  sampling: { u: number; v: number };
  videos: {
    path: string;
    fps: number;
    faces: { frames: number; checked: number; found: number };
    windows: { start: number; end: number; label: string; probabilities: number[] }[];
    error?: string;
  }[];
  files?: string[];
}

beforeAll(async () => {
  const r = await dfer(['import', GOLDEN_WEIGHTS, '--preset', 'paper', '--out', ckpt, '--json', ...B]);
  if (r.code !== 0) throw new Error(r.stderr);
}, 300000);
afterAll(() => tmp.cleanup());

test('Megamind.avi: a face in >= 95% of checked frames, 2 s windows every 1 s, JSON, CSV and the timeline figure', async () => {
  const plot = join(tmp.path, 'timeline.png');
  const r = await dfer(['predict', '-c', ckpt, '-i', VIDEO, '--plot', plot, '--json', ...B]);
  expect(r.code).toBe(0);
  const p = json<VideoJson>(r);
  expect(p.sampling).toEqual({ u: 16, v: 1 });
  const v = p.videos[0];
  expect(v.path).toBe(VIDEO);
  expect(v.faces.frames).toBe(270);
  expect(v.faces.found / v.faces.checked).toBeGreaterThanOrEqual(0.95);
  // 270 frames at 23.976 fps: 48-frame windows every 24 frames (0..216), and one ending at the last frame.
  expect(v.windows.map((w) => Math.round(w.start * v.fps))).toEqual([0, 24, 48, 72, 96, 120, 144, 168, 192, 216, 222]);
  for (const w of v.windows) {
    expect(w.end - w.start).toBeCloseTo(48 / v.fps, 5);
    expect(w.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(w.label).toBe(p.classes[w.probabilities.indexOf(Math.max(...w.probabilities))]);
  }
  expect(p.files).toEqual([join(tmp.path, 'timeline.svg'), plot]);
  expect(existsSync(plot)).toBe(true);

  const csv = await dfer(['predict', '-c', ckpt, '-i', VIDEO, '--csv', '--window', '5', '--stride', '5', ...B]);
  expect(csv.code).toBe(0);
  const rows = csv.stdout.trim().split('\n');
  expect(rows[0]).toBe('video,start,end,label,p_happiness,p_sadness,p_neutral,p_anger,p_surprise,p_disgust,p_fear');
  expect(rows).toHaveLength(1 + 3); // 0-5 s, 5-10 s, and the end
}, 300000);

test('a video without a face: one line saying so, exit 7; tensors and videos in one run: exit 2', async () => {
  const noFace = join(tmp.path, 'gradient.mp4');
  execFileSync(findFfmpeg().found!.path, [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'gradients=size=160x120:rate=10:speed=0.05',
    '-t',
    '2',
    '-pix_fmt',
    'yuv420p',
    noFace,
  ]);
  const r = await dfer(['predict', '-c', ckpt, '-i', noFace, ...B]);
  expect(r.code).toBe(7);
  expect(r.stderr).toMatch(
    /gradient\.mp4: no face found in 5 checked frames of 20; nothing to classify \(for videos that are face crops already, use --faces none\)/,
  );
  const mixed = await dfer(['predict', '-c', ckpt, '-i', noFace, '-i', join(tmp.path, 'x.safetensors'), ...B]);
  expect(mixed.code).toBe(2);
  expect(mixed.stderr).toMatch(/either videos and frame folders, or safetensors tensors/);
}, 300000);

test('a synthetic clip: its .mp4 and its frames give the same label and nearly the same probabilities (--faces none)', async () => {
  const synth = join(tmp.path, 'synth');
  const s = await dfer([
    'synth',
    '-o',
    synth,
    '--clips',
    '3',
    '--videos',
    '--size',
    '112',
    '--min-frames',
    '40',
    '--max-frames',
    '40',
    ...B,
  ]);
  expect(s.code).toBe(0);
  const frames = join(synth, 'Clip', 'clip_224x224', '00001');
  const mp4 = join(synth, 'Clip', 'original', '00001.mp4');
  expect(readdirSync(frames).length).toBe(40);
  const args = ['--faces', 'none', '--window', '10', '--fps', '25', '--json', ...B];
  const a = json<VideoJson>(await dfer(['predict', '-c', ckpt, '-i', frames, ...args]));
  const b = json<VideoJson>(await dfer(['predict', '-c', ckpt, '-i', mp4, ...args]));
  const [wa, wb] = [a.videos[0].windows, b.videos[0].windows];
  expect([wa.length, wb.length]).toEqual([1, 1]); // shorter than a window: the whole clip, once
  expect(wb[0].label).toBe(wa[0].label);
  const diff = Math.max(...wa[0].probabilities.map((p, i) => Math.abs(p - wb[0].probabilities[i])));
  expect(diff).toBeLessThan(0.05);
}, 300000);
