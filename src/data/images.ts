// Frames as raw RGB: listing a folder of extracted frames (DFEW-style `00001.jpg ...`), reading one image into a
// square RGB frame, and JPEG round trips. Decoding and resizing are sharp's (libvips).
//
// Resizing (readImage, and decodeVideo in ../video/decode.ts, which does the same with ffmpeg): the SHORTER side is
// scaled to `size` and the longer one centre-cropped to `size`, so the aspect ratio is kept and nothing is squashed.
// DFEW's released frames are square already, for which this is a plain resize. sharp's reduction kernel is its
// default, lanczos3 (ffmpeg's path uses its lanczos scaler too).
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import { DferError } from '../errors.js';

/** One frame: raw RGB uint8, row-major HWC; data.length === width * height * 3. */
export interface Frame {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A frame folder or image file that cannot be used; the message names the folder or file. */
export class FrameSourceError extends DferError {
  constructor(
    message: string,
    /** The folder or file at fault. */
    readonly path: string,
  ) {
    super(message);
    this.name = 'FrameSourceError';
  }
}

export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.bmp', '.webp'];

export interface FrameListing {
  /** Image files, as paths joined to the folder given, in frame order. */
  frames: string[];
  /** Entries that are not images (other files; sub-folders with a trailing "/"), as names inside the folder, sorted. */
  ignored: string[];
}

/** The last run of digits in a file name without its extension ("00001_00012.jpg" -> "00012"), or null. */
function lastNumber(name: string): string | null {
  const stem = name.slice(0, name.length - extname(name).length);
  const m = /(\d+)(?!.*\d)/.exec(stem);
  return m ? m[1] : null;
}

/** Compares two digit strings as numbers of any length ("2" < "10", "007" == "7"). */
function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The image files of a frame folder (jpg, jpeg, png, bmp, webp; any case), not recursive, ordered by the LAST number
 * in the name, numerically (`2.jpg` before `10.jpg`; `00001_00012.jpg` is frame 12). Equal numbers are ordered by
 * name; names without a number come after all numbered ones, by name. Everything else is returned in `ignored`.
 */
export function listFrameFiles(dir: string): FrameListing {
  let st;
  try {
    st = statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FrameSourceError(
      code === 'ENOENT'
        ? `frame folder not found: ${dir}`
        : `cannot read frame folder ${dir}: ${code ?? (err as Error).message}`,
      dir,
    );
  }
  if (!st.isDirectory())
    throw new FrameSourceError(`not a folder of frames: ${dir} (expected a directory of images)`, dir);
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new FrameSourceError(
      `cannot read frame folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      dir,
    );
  }
  const images: { name: string; num: string | null }[] = [];
  const ignored: string[] = [];
  for (const e of entries) {
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        const t = statSync(join(dir, e.name));
        isDir = t.isDirectory();
        isFile = t.isFile();
      } catch {
        // a dangling link: not a usable image
      }
    }
    if (isFile && IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase()))
      images.push({ name: e.name, num: lastNumber(e.name) });
    else ignored.push(isDir ? `${e.name}/` : e.name);
  }
  images.sort((a, b) => {
    if (a.num !== null && b.num !== null) return compareDigits(a.num, b.num) || compareNames(a.name, b.name);
    if (a.num !== null) return -1;
    if (b.num !== null) return 1;
    return compareNames(a.name, b.name);
  });
  ignored.sort(compareNames);
  return { frames: images.map((i) => join(dir, i.name)), ignored };
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`frame size must be a positive integer, got ${size}`);
}

function checkFrame(frame: Frame, what: string): void {
  const { width, height, data } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`${what}: bad frame size ${width}x${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new RangeError(
      `${what}: ${data.length} bytes for a ${width}x${height} RGB frame (expected ${width * height * 3})`,
    );
  }
}

/** A Uint8Array over a Buffer's bytes (no copy). */
function bytes(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** The pipeline's end: 8-bit sRGB, three channels (grey expanded, alpha dropped, CMYK converted), raw. */
async function toRgb(img: sharp.Sharp): Promise<Frame> {
  const { data, info } = await img
    .toColourspace('srgb')
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
    throw new Error(
      `expected ${info.width}x${info.height}x3 RGB bytes from sharp, got ${data.length} bytes with ${info.channels} channels`,
    );
  }
  return { width: info.width, height: info.height, data: bytes(data) };
}

/**
 * Reads an image as a `size` x `size` RGB frame: EXIF orientation applied, the shorter side scaled to `size`
 * (lanczos3) and the longer one centre-cropped, alpha dropped (not blended), grey expanded to three channels.
 * A missing, truncated or otherwise undecodable image throws FrameSourceError naming the file.
 */
export async function readImage(file: string, size: number, fit: 'cover' | 'contain' = 'cover'): Promise<Frame> {
  checkSize(size);
  // contain: the whole picture, scaled down only, its longer side at most `size` (to find faces in), as
  // decodeVideoFrames.
  const resize =
    fit === 'cover'
      ? ({ fit: 'cover', position: 'centre' } as const)
      : ({ fit: 'inside', withoutEnlargement: true } as const);
  return readVia(file, (img) => img.resize(size, size, { ...resize, kernel: 'lanczos3' }));
}

/** An image file through sharp (orientation applied, then `shape`) as RGB; FrameSourceError naming the file. */
async function readVia(file: string, shape: (img: sharp.Sharp) => sharp.Sharp): Promise<Frame> {
  try {
    return await toRgb(shape(sharp(file, { failOn: 'warning' }).rotate()));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (err as Error).message.split('\n')[0];
    throw new FrameSourceError(
      `cannot read image ${file}: ${/^input file is missing/i.test(why) ? 'no such file' : why}`,
      file,
    );
  }
}

/**
 * The RGB value of `frame` at a real-valued pixel position (pixel centres at integers; the position is clamped to
 * the frame, so outside it the border repeats), bilinear, into rgb[0..2]. Shared by augmentation and face alignment.
 */
export function bilinearAt(frame: Frame, x: number, y: number, rgb: Float64Array): void {
  const { width: W, height: H, data } = frame;
  const xs = Math.min(Math.max(x, 0), W - 1);
  const ys = Math.min(Math.max(y, 0), H - 1);
  const x0 = Math.floor(xs);
  const y0 = Math.floor(ys);
  const x1 = Math.min(x0 + 1, W - 1);
  const y1 = Math.min(y0 + 1, H - 1);
  const fx = xs - x0;
  const fy = ys - y0;
  const i00 = (y0 * W + x0) * 3;
  const i01 = (y0 * W + x1) * 3;
  const i10 = (y1 * W + x0) * 3;
  const i11 = (y1 * W + x1) * 3;
  for (let ch = 0; ch < 3; ch++) {
    const top = data[i00 + ch] + (data[i01 + ch] - data[i00 + ch]) * fx;
    const bottom = data[i10 + ch] + (data[i11 + ch] - data[i10 + ch]) * fx;
    rgb[ch] = top + (bottom - top) * fy;
  }
}

/** Encodes an RGB frame as a baseline JPEG (quality 1..100, default 90). */
export async function encodeJpeg(frame: Frame, quality = 90): Promise<Buffer> {
  checkFrame(frame, 'encodeJpeg');
  if (!Number.isInteger(quality) || quality < 1 || quality > 100)
    throw new RangeError(`JPEG quality must be an integer in 1..100, got ${quality}`);
  return sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

/** Decodes an encoded image (JPEG, or any format sharp reads) to an RGB frame at its own size. */
export async function decodeJpeg(buf: Buffer): Promise<Frame> {
  try {
    return await toRgb(sharp(buf, { failOn: 'warning' }));
  } catch (err) {
    throw new FrameSourceError(
      `cannot decode image bytes (${buf.length} bytes): ${(err as Error).message.split('\n')[0]}`,
      '<buffer>',
    );
  }
}
