// Video decoding with ffmpeg, on the real fixtures in ../shared/fixtures/video (see its SOURCE.md), and the
// damaged-frame detector calibrated on them.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { readImage, type Frame } from '../../src/data/images.js';
import { detectDamagedFrames, frameDamageScores } from '../../src/data/quality.js';
import {
  countVideoFrames,
  decodeVideo,
  decodeVideoFrames,
  FfmpegNotFoundError,
  probeVideo,
  resolveFfmpeg,
  VideoDecodeError,
} from '../../src/video/decode.js';

// Not imported from test/helpers/golden.ts: that module throws when the golden batch is absent, and video tests
// do not need it.
const here = dirname(fileURLToPath(import.meta.url));
const SHARED = process.env.DFER_SHARED ?? resolve(here, '..', '..', '..', 'shared');
const VIDEO = join(SHARED, 'fixtures', 'video');
const CLEAN = join(VIDEO, 'Megamind.avi');
const BUGY = join(VIDEO, 'Megamind_bugy.avi');
const SIZE = 64;

if (!existsSync(CLEAN) || !existsSync(BUGY))
  throw new Error(`video fixtures not found in ${VIDEO}: set DFER_SHARED to the shared/ folder`);

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'dfer-video-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function meanBrightness(f: Frame): number {
  let s = 0;
  for (const v of f.data) s += v;
  return s / f.data.length;
}

describe('decodeVideo on the real fixtures', () => {
  let clean: Awaited<ReturnType<typeof decodeVideo>>;
  let bugy: Awaited<ReturnType<typeof decodeVideo>>;
  beforeAll(async () => {
    [clean, bugy] = await Promise.all([decodeVideo(CLEAN, { size: SIZE }), decodeVideo(BUGY, { size: SIZE })]);
  });

  test('Megamind.avi: exactly 270 frames of 64x64 RGB, source 720x528 at 23.976 fps, no warnings (audio is not decoded)', () => {
    expect(clean.frames).toHaveLength(270);
    for (const f of clean.frames) {
      expect([f.width, f.height, f.data.length]).toEqual([SIZE, SIZE, SIZE * SIZE * 3]);
      expect(f.data).toBeInstanceOf(Uint8Array);
    }
    expect([clean.sourceWidth, clean.sourceHeight]).toEqual([720, 528]);
    expect(clean.fps).toBeCloseTo(24000 / 1001, 2);
    // the AC-3 track's broken last frame must not show up: the decode reads video only
    expect(clean.warnings).toEqual([]);
    // frame 0 is black in the source; later frames show the (dark-toned) animated scene
    expect(meanBrightness(clean.frames[0])).toBeLessThan(5);
    expect(meanBrightness(clean.frames[150])).toBeGreaterThan(20);
  });

  test('Megamind_bugy.avi decodes "cleanly" (270 frames, 30 fps, no ffmpeg complaint) but its damage is detected', () => {
    expect(bugy.frames).toHaveLength(270);
    expect([bugy.sourceWidth, bugy.sourceHeight]).toEqual([720, 528]);
    expect(bugy.fps).toBeCloseTo(30, 3);
    expect(bugy.warnings).toEqual([]);

    const damaged = detectDamagedFrames(bugy.frames);
    const cleanDamaged = detectDamagedFrames(clean.frames);
    // measured at 64 px: 17 frames in the damaged copy (every one a true damage: OpenCV damaged every 5th frame up
    // to frame 120), 0 in the clean video
    expect(cleanDamaged).toEqual([]);
    expect(damaged.length).toBeGreaterThanOrEqual(12);
    for (const d of damaged) {
      expect(d.index % 5).toBe(0);
      expect(d.index).toBeLessThanOrEqual(120);
    }
    // the two large solid rectangles: white in frame 40, green in frame 100
    const byIndex = new Map(damaged.map((d) => [d.index, d]));
    const white = byIndex.get(40)!;
    const green = byIndex.get(100)!;
    expect(white.reasons).toContain('flat-colour');
    expect(green.reasons).toContain('flat-colour');
    expect(Math.min(...white.colour)).toBeGreaterThan(230);
    expect(green.colour[1]).toBeGreaterThan(230);
    expect(Math.max(green.colour[0], green.colour[2])).toBeLessThan(100);
    expect(white.fraction).toBeGreaterThan(0.15);
    expect(green.fraction).toBeGreaterThan(0.25);

    // the scores of the clean video stay far below the thresholds
    const scores = frameDamageScores(clean.frames);
    expect(Math.max(...scores.map((s) => s.flat.fraction))).toBeLessThan(0.05);
    expect(Math.max(...scores.map((s) => s.transient))).toBeLessThan(0.002);
  });

  test('countVideoFrames agrees with the decode', async () => {
    expect(await countVideoFrames(CLEAN)).toBe(270);
  });
});

describe('decodeVideoFrames streams', () => {
  test('breaking out early stops ffmpeg; maxFrames limits the decode', async () => {
    let n = 0;
    for await (const f of decodeVideoFrames(CLEAN, { size: 16 })) {
      expect(f.data.length).toBe(16 * 16 * 3);
      if (++n === 5) break;
    }
    expect(n).toBe(5);
    const r = await decodeVideo(CLEAN, { size: 16, maxFrames: 10 });
    expect(r.frames).toHaveLength(10);
  });

  test('scales the shorter side and centre-crops, like readImage', async () => {
    // a 160x90 picture in four colours, as a 3-frame lossless video
    const w = 160;
    const h = 90;
    const px = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const c = x < 80 ? (y < 45 ? [220, 30, 30] : [30, 30, 220]) : y < 45 ? [30, 220, 30] : [230, 230, 40];
        px.set(c, (y * w + x) * 3);
      }
    }
    const png = join(tmp, 'quad.png');
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(png);
    const video = join(tmp, 'quad.mkv');
    const ffmpeg = resolveFfmpeg();
    execFileSync(ffmpeg, [
      '-v',
      'error',
      '-y',
      '-loop',
      '1',
      '-i',
      png,
      '-frames:v',
      '3',
      '-c:v',
      'ffv1',
      '-pix_fmt',
      'bgr0',
      video,
    ]);
    const r = await decodeVideo(video, { size: 32 });
    expect(r.frames).toHaveLength(3);
    expect([r.sourceWidth, r.sourceHeight]).toEqual([160, 90]);
    const img = await readImage(png, 32);
    let diff = 0;
    for (let i = 0; i < img.data.length; i++) diff += Math.abs(img.data[i] - r.frames[1].data[i]);
    expect(diff / img.data.length).toBeLessThan(6);
    // the square is cut from the middle: all four colours, each in its quadrant
    const at = (f: Frame, x: number, y: number) => Array.from(f.data.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3));
    const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]) < 12);
    expect(near(at(r.frames[1], 4, 4), [220, 30, 30])).toBe(true);
    expect(near(at(r.frames[1], 28, 4), [30, 220, 30])).toBe(true);
    expect(near(at(r.frames[1], 4, 28), [30, 30, 220])).toBe(true);
    expect(near(at(r.frames[1], 28, 28), [230, 230, 40])).toBe(true);
  });
});

describe('bad input', () => {
  test("a text file renamed .mp4 -> VideoDecodeError naming the file and ffmpeg's complaint", async () => {
    const fake = join(tmp, 'not a video.mp4');
    writeFileSync(fake, 'this is a text file, not a video\n');
    for (const run of [
      () => decodeVideo(fake, { size: 16 }),
      async () => {
        for await (const _ of decodeVideoFrames(fake, { size: 16 }));
      },
    ]) {
      const err = await run().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(VideoDecodeError);
      expect((err as VideoDecodeError).file).toBe(fake);
      expect((err as Error).message).toContain(fake);
      expect((err as Error).message).toMatch(/Invalid data found when processing input/);
    }
  });

  test('a missing file -> VideoDecodeError "video file not found"', async () => {
    const missing = join(tmp, 'nope.avi');
    await expect(decodeVideo(missing, { size: 16 })).rejects.toThrow(
      new VideoDecodeError(`video file not found: ${missing}`, missing, 'missing'),
    );
    await expect(decodeVideo(missing, { size: 16 })).rejects.toMatchObject({ reason: 'missing', file: missing });
    await expect(decodeVideo(tmp, { size: 16 })).rejects.toMatchObject({ reason: 'not-a-file' });
  });

  test('a file with no video stream -> VideoDecodeError (no-video-stream)', async () => {
    const wav = join(tmp, 'tone.wav');
    execFileSync(resolveFfmpeg(), ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=0.2', wav]);
    await expect(decodeVideo(wav, { size: 16 })).rejects.toMatchObject({
      name: 'VideoDecodeError',
      reason: 'no-video-stream',
    });
    const err = await (async () => {
      for await (const _ of decodeVideoFrames(wav, { size: 16 }));
    })().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ reason: 'no-video-stream', file: wav });
  });

  test('no ffmpeg anywhere -> FfmpegNotFoundError saying how to get one; a bad explicit path is not silently replaced', async () => {
    const err = await decodeVideo(CLEAN, { size: 16, env: { PATH: '' } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FfmpegNotFoundError);
    expect(err).not.toBeInstanceOf(VideoDecodeError);
    for (const hint of ['apt-get install ffmpeg', 'npm install ffmpeg-static', 'DFER_FFMPEG='])
      expect((err as Error).message).toContain(hint);
    await expect(decodeVideo(CLEAN, { size: 16, ffmpeg: join(tmp, 'no-ffmpeg-here') })).rejects.toThrow(
      /no-ffmpeg-here cannot be used: no such file/,
    );
  });

  test('bad sizes are rejected before anything runs', async () => {
    await expect(decodeVideo(CLEAN, { size: 0 })).rejects.toThrow(RangeError);
    await expect(decodeVideo(CLEAN, { size: 16, maxFrames: 0 })).rejects.toThrow(RangeError);
  });
});

describe('probeVideo', () => {
  test('without an ffprobe beside ffmpeg, reads the ffmpeg banner', async () => {
    const dir = join(tmp, 'bin');
    mkdirSync(dir);
    const link = join(dir, 'ffmpeg');
    symlinkSync(resolveFfmpeg(), link);
    const p = await probeVideo(CLEAN, { ffmpeg: link });
    expect(p).toMatchObject({ width: 720, height: 528, codec: 'mpeg4', rotation: 0, via: 'ffmpeg' });
    expect(p.fps).toBeCloseTo(23.98, 2);
    const d = await decodeVideo(BUGY, { size: 8, ffmpeg: link, maxFrames: 3 });
    expect([d.sourceWidth, d.sourceHeight, d.fps, d.frames.length]).toEqual([720, 528, 30, 3]);
    const fake = join(tmp, 'text.avi');
    writeFileSync(fake, 'not a video either\n');
    await expect(probeVideo(fake, { ffmpeg: link })).rejects.toThrow(/text\.avi: Invalid data found/);
  });
});
