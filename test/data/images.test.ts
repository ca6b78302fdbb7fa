// Frame folders and images (src/data/images.ts), and the damaged-frame measures (src/data/quality.ts) on made-up
// frames; their calibration on real video is in test/video/decode.test.ts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  decodeJpeg,
  encodeJpeg,
  FrameSourceError,
  listFrameFiles,
  readImage,
  type Frame,
} from '../../src/data/images.js';
import {
  DamageDetector,
  detectDamagedFrames,
  flatColour,
  flatColourFraction,
  transientFraction,
} from '../../src/data/quality.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'dfer-images-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const solid = (width: number, height: number, rgb: [number, number, number]) =>
  sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });

describe('listFrameFiles', () => {
  test('orders images by the last number in the name, numerically; reports what it ignores', async () => {
    const dir = join(tmp, 'frames');
    mkdirSync(dir);
    const jpg = await solid(4, 4, [10, 20, 30]).jpeg().toBuffer();
    for (const name of [
      '10.jpg',
      '2.jpg',
      '1.jpg',
      'frame_3.png',
      'cover.jpg',
      '00001_00012.JPG',
      'clip7_00004.webp',
      'a.BMP',
    ])
      writeFileSync(join(dir, name), jpg);
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    writeFileSync(join(dir, '5.json'), '{}');
    mkdirSync(join(dir, 'sub'));
    const { frames, ignored } = listFrameFiles(dir);
    expect(frames).toEqual(
      ['1.jpg', '2.jpg', 'frame_3.png', 'clip7_00004.webp', '10.jpg', '00001_00012.JPG', 'a.BMP', 'cover.jpg'].map(
        (n) => join(dir, n),
      ),
    );
    expect(ignored).toEqual(['5.json', 'notes.txt', 'sub/']);
  });

  test('equal numbers are ordered by name; long numbers compare numerically', () => {
    const dir = join(tmp, 'ties');
    mkdirSync(dir);
    for (const name of ['b_2.png', 'a_2.png', '99999999999999999999.png', '100000000000000000000.png', '007.png'])
      writeFileSync(join(dir, name), '');
    expect(listFrameFiles(dir).frames.map((f) => f.slice(dir.length + 1))).toEqual([
      'a_2.png',
      'b_2.png',
      '007.png',
      '99999999999999999999.png',
      '100000000000000000000.png',
    ]);
  });

  test('a missing folder or a file -> FrameSourceError naming it', () => {
    const missing = join(tmp, 'no-such-folder');
    expect(() => listFrameFiles(missing)).toThrow(FrameSourceError);
    expect(() => listFrameFiles(missing)).toThrow(`frame folder not found: ${missing}`);
    const file = join(tmp, 'plain.txt');
    writeFileSync(file, 'x');
    expect(() => listFrameFiles(file)).toThrow(/not a folder of frames: .*plain\.txt/);
  });
});

describe('readImage', () => {
  test('a JPEG and a PNG become size x size RGB', async () => {
    const jpg = join(tmp, 'c.jpg');
    await solid(50, 30, [200, 100, 50]).jpeg({ quality: 95 }).toFile(jpg);
    const f = await readImage(jpg, 16);
    expect([f.width, f.height, f.data.length]).toEqual([16, 16, 16 * 16 * 3]);
    expect(f.data).toBeInstanceOf(Uint8Array);
    for (let i = 0; i < f.data.length; i += 3) {
      expect(Math.abs(f.data[i] - 200)).toBeLessThan(6);
      expect(Math.abs(f.data[i + 1] - 100)).toBeLessThan(6);
      expect(Math.abs(f.data[i + 2] - 50)).toBeLessThan(6);
    }
    const png = join(tmp, 'c.png');
    await solid(8, 8, [1, 2, 3]).png().toFile(png);
    const up = await readImage(png, 24);
    expect([up.width, up.height]).toEqual([24, 24]);
    expect(Array.from(up.data.subarray(0, 3))).toEqual([1, 2, 3]);
  });

  test('scales the shorter side and crops the middle (no squashing)', async () => {
    // 40x20: red | green | blue | white stripes, 10 px each; the centre square is the green and blue stripes
    const w = 40;
    const h = 20;
    const px = Buffer.alloc(w * h * 3);
    const colours = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [255, 255, 255],
    ];
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set(colours[Math.floor(x / 10)], (y * w + x) * 3);
    const file = join(tmp, 'stripes.png');
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(file);
    const f = await readImage(file, 10);
    const at = (x: number, y: number) => Array.from(f.data.subarray((y * 10 + x) * 3, (y * 10 + x) * 3 + 3));
    const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]) < 30);
    // lanczos rings a little near the stripe edges: compare loosely
    expect([at(2, 5), near(at(2, 5), [0, 255, 0])]).toEqual([at(2, 5), true]);
    expect([at(7, 5), near(at(7, 5), [0, 0, 255])]).toEqual([at(7, 5), true]);
    // squashing would have kept the red and white stripes at the sides
    expect(near(at(0, 5), [255, 0, 0])).toBe(false);
    expect(near(at(9, 5), [255, 255, 255])).toBe(false);
  });

  test('grey and RGBA inputs become three-channel RGB', async () => {
    const grey = join(tmp, 'grey.png');
    await sharp(Buffer.alloc(12 * 12, 77), { raw: { width: 12, height: 12, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(grey);
    expect((await sharp(grey).metadata()).channels).toBe(1);
    const g = await readImage(grey, 6);
    expect(g.data.length).toBe(6 * 6 * 3);
    expect(Array.from(g.data.subarray(0, 6))).toEqual([77, 77, 77, 77, 77, 77]);

    const rgba = join(tmp, 'rgba.png');
    await sharp({ create: { width: 12, height: 12, channels: 4, background: { r: 10, g: 200, b: 30, alpha: 1 } } })
      .png()
      .toFile(rgba);
    expect((await sharp(rgba).metadata()).channels).toBe(4);
    const c = await readImage(rgba, 6);
    expect(c.data.length).toBe(6 * 6 * 3);
    expect(Array.from(c.data.subarray(0, 3))).toEqual([10, 200, 30]);
  });

  test('a corrupt, truncated or missing image -> FrameSourceError naming the file', async () => {
    const good = await solid(64, 64, [5, 6, 7]).jpeg().toBuffer();
    const truncated = join(tmp, 'truncated.jpg');
    writeFileSync(truncated, good.subarray(0, good.length >> 1));
    const junk = join(tmp, 'junk.jpg');
    writeFileSync(junk, 'definitely not a JPEG');
    const missing = join(tmp, 'missing.jpg');
    for (const file of [truncated, junk, missing]) {
      const err = await readImage(file, 8).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(FrameSourceError);
      expect((err as FrameSourceError).path).toBe(file);
      expect((err as Error).message).toContain(file);
    }
    await expect(readImage(missing, 8)).rejects.toThrow(`cannot read image ${missing}: no such file`);
    await expect(readImage(junk, 0)).rejects.toThrow(RangeError);
  });
});

describe('encodeJpeg / decodeJpeg', () => {
  test('round trip keeps the picture', async () => {
    const w = 24;
    const h = 16;
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([x * 10, y * 15, 128], (y * w + x) * 3);
    const jpg = await encodeJpeg({ width: w, height: h, data }, 95);
    expect(jpg[0]).toBe(0xff);
    expect(jpg[1]).toBe(0xd8);
    const back = await decodeJpeg(jpg);
    expect([back.width, back.height, back.data.length]).toEqual([w, h, w * h * 3]);
    let diff = 0;
    for (let i = 0; i < data.length; i++) diff += Math.abs(back.data[i] - data[i]);
    expect(diff / data.length).toBeLessThan(4);
    expect((await encodeJpeg({ width: w, height: h, data })).length).toBeLessThan(jpg.length); // default quality 90
  });

  test('bad frames and bad bytes are rejected', async () => {
    await expect(encodeJpeg({ width: 4, height: 4, data: new Uint8Array(10) })).rejects.toThrow(
      /10 bytes for a 4x4 RGB frame/,
    );
    await expect(encodeJpeg({ width: 1, height: 1, data: new Uint8Array(3) }, 0)).rejects.toThrow(RangeError);
    await expect(decodeJpeg(Buffer.from('nope'))).rejects.toThrow(FrameSourceError);
  });
});

describe('damaged-frame measures on made-up frames', () => {
  const S = 64;
  /** A smooth, noisy, skin-toned frame (a stand-in for footage), varying with t. */
  function natural(t: number): Frame {
    const data = new Uint8Array(S * S * 3);
    let seed = 1 + t;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff - 0.5) * 6;
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const i = (y * S + x) * 3;
        data[i] = 60 + 3 * x + rnd(); // steep enough that no 4x4 block is flat
        data[i + 1] = 80 + y + t + rnd();
        data[i + 2] = 60 + ((x + y) >> 1) + rnd();
      }
    }
    return { width: S, height: S, data };
  }
  function paint(f: Frame, x0: number, y0: number, w: number, h: number, rgb: number[]): Frame {
    const data = f.data.slice();
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data.set(rgb, (y * S + x) * 3);
    return { ...f, data };
  }

  test('flatColourFraction: a solid green block counts, footage and black letterbox bars do not', () => {
    expect(flatColourFraction(natural(0))).toBe(0);
    const green = paint(natural(0), 8, 16, 32, 32, [0, 255, 0]);
    expect(flatColourFraction(green)).toBeCloseTo((32 * 32) / (S * S), 5); // block-aligned: exactly its area
    expect(flatColour(green).colour).toEqual([0, 255, 0]);
    const letterbox = paint(paint(natural(0), 0, 0, S, 16, [0, 0, 0]), 0, 48, S, 16, [0, 0, 0]);
    expect(flatColourFraction(letterbox)).toBe(0);
    expect(flatColourFraction(paint(natural(0), 0, 0, S, 32, [255, 255, 255]))).toBeCloseTo(0.5, 5);
  });

  test('detectDamagedFrames: a one-frame glitch of any colour is transient, a steady scene and a cut are not', () => {
    const frames = Array.from({ length: 12 }, (_, t) => natural(t));
    frames[4] = paint(frames[4], 20, 20, 12, 6, [30, 30, 30]); // small, dark grey: only the transient test sees it
    frames[8] = paint(frames[8], 0, 0, S, 40, [0, 255, 0]); // big green block
    for (let t = 10; t < 12; t++) frames[t] = { ...frames[t], data: frames[t].data.map((v) => 255 - v) }; // a cut
    const found = detectDamagedFrames(frames);
    expect(found.map((d) => d.index)).toEqual([4, 8]);
    expect(found[0]).toMatchObject({ reasons: ['transient'], colour: [30, 30, 30] });
    expect(found[0].fraction).toBeCloseTo((12 * 6) / (S * S), 2);
    expect(found[1].reasons).toEqual(['flat-colour', 'transient']);
    expect(found[1].colour).toEqual([0, 255, 0]);
    expect(transientFraction(frames[0], frames[1], frames[2])).toBe(0);
    // a number is the flat-colour threshold; the streaming detector gives the same answer
    expect(detectDamagedFrames(frames, { transientThreshold: 1 }).map((d) => d.index)).toEqual([8]);
    expect(detectDamagedFrames(frames, 0.9).map((d) => d.index)).toEqual([4, 8]);
    const det = new DamageDetector();
    const streamed = [...frames.map((f) => det.push(f)), det.finish()].filter((d) => d !== null);
    expect(streamed).toEqual(found);
    expect(() => detectDamagedFrames([natural(0), { width: 8, height: 8, data: new Uint8Array(192) }])).toThrow(
      /share a size/,
    );
  });
});
