// Decoding a video file into square RGB frames with ffmpeg (located by ./ffmpeg.ts).
//
// ffmpeg is always spawned with an argument array, never through a shell. Only the first video stream is read
// (`-map 0:v:0 -an -sn -dn`), so a broken audio track cannot fail or pollute the decode. ffmpeg scales and crops
// itself (`scale=S:S:force_original_aspect_ratio=increase:flags=lanczos`, then a centre `crop=S:S`: the shorter
// side to S, the longer one centre-cropped at the same pixel offset as readImage in ../data/images.ts) and writes
// raw rgb24 to stdout, which is read frame by frame (S*S*3 bytes each) with backpressure: decodeVideoFrames holds
// at most one partial frame plus the pipe's buffer, whatever the length of the video. Frames are passed through
// with their own timestamps (`-fps_mode passthrough`, `-vsync passthrough` before ffmpeg 5.1), never duplicated or
// dropped to reach a constant rate.
// ffmpeg applies a rotation tag (phone videos) before scaling; sourceWidth/sourceHeight are the size as displayed.
// Pixel aspect ratio is not corrected (frames are cropped from the stored pixels).
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { Frame } from '../data/images.js';
import { findFfmpeg, type FfmpegCandidate } from './ffmpeg.js';
import { DferError } from '../errors.js';

/** A video that could not be decoded: missing, not a video, no video stream, ffmpeg failed, or no frames. */
export class VideoDecodeError extends DferError {
  constructor(
    message: string,
    /** The video file at fault. */
    readonly file: string,
    readonly reason: 'missing' | 'not-a-file' | 'no-video-stream' | 'ffmpeg-failed' | 'no-frames',
    /** ffmpeg's last stderr line, when it said something. */
    readonly ffmpegMessage?: string,
  ) {
    super(message);
    this.name = 'VideoDecodeError';
  }
}

/**
 * No usable ffmpeg: not a fault of any one video (a batch should stop, not skip the file), hence not a
 * VideoDecodeError. The message lists where dfer looked and how to get one.
 */
export class FfmpegNotFoundError extends DferError {
  constructor(
    message: string,
    readonly tried: FfmpegCandidate[],
  ) {
    super(message);
    this.name = 'FfmpegNotFoundError';
  }
}

export const FFMPEG_INSTALL_HINT =
  'install one (apt-get install ffmpeg, brew install ffmpeg, or npm install ffmpeg-static) or point DFER_FFMPEG=/path/to/ffmpeg at a binary';

export interface FfmpegOptions {
  /** An explicit ffmpeg binary (a --ffmpeg flag). If given it must work: there is no fallback to other sources. */
  ffmpeg?: string;
  /** Environment for the search (DFER_FFMPEG, FFMPEG_PATH, PATH); process.env by default. */
  env?: NodeJS.ProcessEnv;
}

export interface DecodeOptions extends FfmpegOptions {
  /** Output frames are size x size (fit cover, the default), or the whole picture with its longer side at most size (contain). */
  size: number;
  /** cover: the centre square (as dataset crops); contain: the whole picture, scaled down only (for face detection). */
  fit?: 'cover' | 'contain';
  /** Stop after this many frames. */
  maxFrames?: number;
  /** Called with each distinct message ffmpeg printed at error level during a decode that still succeeded. */
  onWarning?: (message: string) => void;
}

export interface DecodedVideo {
  frames: Frame[];
  /** Frames per second as the container/stream declares it (average rate), if it does. */
  fps?: number;
  /** Source frame size as displayed (after any rotation tag). */
  sourceWidth: number;
  sourceHeight: number;
  /** Non-fatal decoder messages (concealed errors in the video stream), and anything odd about the output. */
  warnings: string[];
}

export interface VideoProbe {
  /** Size as displayed (rotation applied). */
  width: number;
  height: number;
  fps?: number;
  codec?: string;
  /** Rotation tag in degrees (0 if none). */
  rotation: number;
  /** Seconds, when the container says. */
  duration?: number;
  /** "ffprobe" or "ffmpeg" (its -i banner): how the numbers were read. */
  via: 'ffprobe' | 'ffmpeg';
}

/** The ffmpeg to use: opts.ffmpeg if given (and it must be usable), else the first found by findFfmpeg. */
export function resolveFfmpeg(opts: FfmpegOptions = {}): string {
  const search = findFfmpeg({
    ...(opts.ffmpeg !== undefined ? { explicit: opts.ffmpeg } : {}),
    ...(opts.env ? { env: opts.env } : {}),
  });
  if (opts.ffmpeg !== undefined) {
    const first = search.tried[0];
    if (!first?.found)
      throw new FfmpegNotFoundError(
        `ffmpeg given as ${opts.ffmpeg} cannot be used: ${first?.detail ?? 'unknown'}`,
        search.tried,
      );
    return first.path!;
  }
  if (!search.found) {
    const looked = search.tried.map((t) => `${t.source}: ${t.detail}`).join('; ');
    throw new FfmpegNotFoundError(
      `video input needs ffmpeg, and none was found (looked at ${looked}); ${FFMPEG_INSTALL_HINT}`,
      search.tried,
    );
  }
  return search.found.path;
}

function checkVideoFile(file: string): void {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new VideoDecodeError(
      code === 'ENOENT' ? `video file not found: ${file}` : `cannot read video ${file}: ${code}`,
      file,
      'missing',
    );
  }
  if (!st.isFile())
    throw new VideoDecodeError(
      `not a video file: ${file} (a ${st.isDirectory() ? 'directory' : 'special file'})`,
      file,
      'not-a-file',
    );
}

/** Collects a child's stderr: the last lines (bounded), for error messages and warnings. */
class StderrTail {
  private partial = '';
  readonly lines: string[] = [];
  constructor(private readonly max = 200) {}
  push(text: string): void {
    const parts = (this.partial + text).split(/\r?\n|\r/);
    this.partial = parts.pop() ?? '';
    if (this.partial.length > 4096) this.partial = this.partial.slice(-4096);
    for (const p of parts) this.add(p);
  }
  end(): void {
    this.add(this.partial);
    this.partial = '';
  }
  private add(line: string): void {
    const t = line.trim();
    if (!t) return;
    this.lines.push(t);
    if (this.lines.length > this.max) this.lines.shift();
  }
  get last(): string | undefined {
    return this.lines[this.lines.length - 1];
  }
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: StderrTail;
  error?: Error;
}

/**
 * Runs a program to completion (argument array, no shell), keeping stdout (up to maxStdout characters) and
 * stderr's tail; onStdout, if given, sees all of stdout.
 */
function run(cmd: string, args: string[], maxStdout = 4 << 20, onStdout?: (text: string) => void): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const stderr = new StderrTail();
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      onStdout?.(s);
      if (stdout.length < maxStdout) stdout += s;
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => stderr.push(s));
    let error: Error | undefined;
    child.once('error', (err) => {
      error = err;
    });
    child.once('close', (code, signal) => {
      stderr.end();
      resolve({ code, signal, stdout, stderr, ...(error ? { error } : {}) });
    });
  });
}

const versions = new Map<string, Promise<[number, number] | null>>();

/** ffmpeg's major.minor, from `ffmpeg -version` (cached per binary); null for git builds ("N-12345-g...") and oddities. */
export function ffmpegVersion(ffmpeg: string): Promise<[number, number] | null> {
  let v = versions.get(ffmpeg);
  if (!v) {
    v = run(ffmpeg, ['-hide_banner', '-version']).then((r) => {
      const m = /version\s+n?(\d+)\.(\d+)/.exec(r.stdout.split('\n')[0] ?? '');
      return m ? [Number(m[1]), Number(m[2])] : null;
    });
    versions.set(ffmpeg, v);
  }
  return v;
}

/** The option that passes frames through untouched: -fps_mode since ffmpeg 5.1, -vsync before. */
async function passthroughArgs(ffmpeg: string): Promise<string[]> {
  const v = await ffmpegVersion(ffmpeg);
  const old = v !== null && (v[0] < 5 || (v[0] === 5 && v[1] < 1));
  return old ? ['-vsync', 'passthrough'] : ['-fps_mode', 'passthrough'];
}

function parseRate(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const [n, d] = text.split('/').map(Number);
  const r = d === undefined ? n : d === 0 ? NaN : n / d;
  return Number.isFinite(r) && r > 0 ? r : undefined;
}

function normRotation(deg: number): number {
  const r = ((Math.round(deg) % 360) + 360) % 360;
  return r;
}

/** An ffprobe beside the ffmpeg binary (same folder, same naming), if there is one. */
function siblingFfprobe(ffmpeg: string): string | null {
  const ext = extname(ffmpeg);
  const name = basename(ffmpeg, ext).replace(/ffmpeg/i, 'ffprobe');
  if (name === basename(ffmpeg, ext)) return null;
  const path = join(dirname(ffmpeg), name + ext);
  try {
    if (!statSync(path).isFile()) return null;
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return null;
  }
}

function failure(file: string, what: string, r: RunResult): VideoDecodeError {
  const last = r.error ? r.error.message : r.stderr.last;
  const noStream = r.stderr.lines.some((l) =>
    /matches no streams|does not contain any stream|no video stream/i.test(l),
  );
  const how = r.error ? 'could not be run' : r.signal ? `was killed by ${r.signal}` : `exited with code ${r.code}`;
  if (noStream)
    return new VideoDecodeError(`${file}: no video stream (ffmpeg: ${last})`, file, 'no-video-stream', last);
  return new VideoDecodeError(
    `cannot ${what} ${file}: ffmpeg ${how}${last ? `: ${last}` : ''}`,
    file,
    'ffmpeg-failed',
    last,
  );
}

async function probeWithFfprobe(ffprobe: string, file: string): Promise<VideoProbe | null> {
  const r = await run(ffprobe, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_streams',
    '-show_format',
    '-of',
    'json',
    file,
  ]);
  if (r.error || r.code !== 0) return null; // let the ffmpeg path give the error message
  let json: { streams?: Record<string, unknown>[]; format?: Record<string, unknown> };
  try {
    json = JSON.parse(r.stdout);
  } catch {
    return null;
  }
  const s = json.streams?.[0];
  if (!s) throw new VideoDecodeError(`${file}: no video stream`, file, 'no-video-stream');
  const w = Number(s.width);
  const h = Number(s.height);
  if (!(w > 0 && h > 0)) return null;
  let rotation = 0;
  const tags = s.tags as Record<string, string> | undefined;
  if (tags?.rotate !== undefined) rotation = normRotation(Number(tags.rotate) || 0);
  for (const sd of (s.side_data_list as Record<string, unknown>[] | undefined) ?? []) {
    if (typeof sd.rotation === 'number') rotation = normRotation(-sd.rotation); // displaymatrix is counter-clockwise
  }
  const swap = rotation === 90 || rotation === 270;
  const fps = parseRate(s.avg_frame_rate as string) ?? parseRate(s.r_frame_rate as string);
  const duration = Number(json.format?.duration ?? s.duration);
  return {
    width: swap ? h : w,
    height: swap ? w : h,
    ...(fps !== undefined ? { fps } : {}),
    ...(typeof s.codec_name === 'string' ? { codec: s.codec_name } : {}),
    rotation,
    ...(Number.isFinite(duration) && duration > 0 ? { duration } : {}),
    via: 'ffprobe',
  };
}

/** Reads the first video stream's line (and rotation side data) from ffmpeg's `-i` banner. */
async function probeWithFfmpeg(ffmpeg: string, file: string): Promise<VideoProbe> {
  const r = await run(ffmpeg, ['-nostdin', '-hide_banner', '-i', file]);
  // With no output file ffmpeg always exits 1 ("At least one output file must be specified"); read the banner.
  const lines = r.stderr.lines;
  const at = lines.findIndex((l) => /^Stream #\d+:\d+.*?: Video: /.test(l));
  if (at < 0) {
    if (r.error) throw failure(file, 'probe', r);
    const input = lines.some((l) => /^Input #\d+/.test(l));
    if (input) throw new VideoDecodeError(`${file}: no video stream`, file, 'no-video-stream');
    const why = lines.find((l) => l.includes(file) || /invalid data|error/i.test(l)) ?? r.stderr.last;
    throw new VideoDecodeError(
      `cannot decode ${file}: ffmpeg cannot read it${why ? `: ${why}` : ''}`,
      file,
      'ffmpeg-failed',
      why,
    );
  }
  const line = lines[at];
  const codec = /: Video: ([\w-]+)/.exec(line)?.[1];
  // skip "(tag / 0x...)" and "[SAR 1:1 DAR 15:11]" parts: the size is the first WxH after the codec
  const size = /,\s*(\d+)x(\d+)(?=[\s,[]|$)/.exec(line);
  if (!size)
    throw new VideoDecodeError(
      `cannot decode ${file}: ffmpeg reports no frame size (${line})`,
      file,
      'ffmpeg-failed',
      line,
    );
  const fps = parseRate(/([\d.]+)\s*fps\b/.exec(line)?.[1]) ?? parseRate(/([\d.]+k?)\s*tbr\b/.exec(line)?.[1]);
  let rotation = 0;
  for (let i = at + 1; i < lines.length && !/^Stream #/.test(lines[i]); i++) {
    const m = /rotation of (-?[\d.]+) degrees/.exec(lines[i]) ?? /^rotate\s*:\s*(-?\d+)/.exec(lines[i]);
    if (m) rotation = m[0].startsWith('rotation') ? normRotation(-Number(m[1])) : normRotation(Number(m[1]));
  }
  const dur = /Duration: (\d+):(\d+):([\d.]+)/.exec(lines.find((l) => l.startsWith('Duration:')) ?? '');
  const duration = dur ? Number(dur[1]) * 3600 + Number(dur[2]) * 60 + Number(dur[3]) : undefined;
  const w = Number(size[1]);
  const h = Number(size[2]);
  const swap = rotation === 90 || rotation === 270;
  return {
    width: swap ? h : w,
    height: swap ? w : h,
    ...(fps !== undefined ? { fps } : {}),
    ...(codec ? { codec } : {}),
    rotation,
    ...(duration !== undefined && duration > 0 ? { duration } : {}),
    via: 'ffmpeg',
  };
}

/** Size, frame rate and rotation of the first video stream: ffprobe beside ffmpeg if there is one, else ffmpeg's banner. */
export async function probeVideo(file: string, opts: FfmpegOptions = {}): Promise<VideoProbe> {
  checkVideoFile(file);
  const ffmpeg = resolveFfmpeg(opts);
  const ffprobe = siblingFfprobe(ffmpeg);
  if (ffprobe) {
    const p = await probeWithFfprobe(ffprobe, file);
    if (p) return p;
  }
  return probeWithFfmpeg(ffmpeg, file);
}

function checkDecodeOptions(opts: DecodeOptions): void {
  if (!Number.isInteger(opts.size) || opts.size < 1)
    throw new RangeError(`frame size must be a positive integer, got ${opts.size}`);
  if (opts.maxFrames !== undefined && (!Number.isInteger(opts.maxFrames) || opts.maxFrames < 1)) {
    throw new RangeError(`maxFrames must be a positive integer, got ${opts.maxFrames}`);
  }
}

/** The whole picture scaled down (never up) so that its longer side is at most `side`; even sizes, as encoders like. */
export function containSize(width: number, height: number, side: number): { width: number; height: number } {
  const k = Math.min(1, side / Math.max(width, height));
  const even = (v: number) => Math.max(2, 2 * Math.round((v * k) / 2));
  return { width: even(width), height: even(height) };
}

/** The ffmpeg arguments decodeVideoFrames uses (exported for reports and tests). */
export function decodeArgs(
  file: string,
  size: number,
  passthrough: string[],
  maxFrames?: number,
  contain?: { width: number; height: number },
): string[] {
  // Scale (and convert to RGB in the same step), then crop in RGB: cropping yuv420p would round the offset down to an
  // even pixel. The offset (excess + 1) / 2, floored, is sharp's centre crop, so both paths cut the same square.
  // contain: an exact output size computed here, so the raw stream splits into frames without guessing ffmpeg's
  // rounding.
  const filter = contain
    ? `scale=${contain.width}:${contain.height}:flags=area,format=rgb24`
    : `scale=${size}:${size}:force_original_aspect_ratio=increase:flags=lanczos,format=rgb24,crop=${size}:${size}:(iw-${size}+1)/2:(ih-${size}+1)/2`;
  return [
    '-nostdin',
    '-hide_banner',
    '-v',
    'error',
    '-i',
    file,
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-dn',
    ...passthrough,
    '-vf',
    filter,
    ...(maxFrames !== undefined ? ['-frames:v', String(maxFrames)] : []),
    '-pix_fmt',
    'rgb24',
    '-f',
    'rawvideo',
    'pipe:1',
  ];
}

/**
 * The frames of a video, size x size RGB, one at a time (bounded memory). Throws VideoDecodeError if the file is
 * missing or ffmpeg fails (naming the file and ffmpeg's last stderr line) or yields no frame; FfmpegNotFoundError if
 * there is no ffmpeg. Errors ffmpeg reports at exit arrive after the frames already yielded. Breaking out of the
 * loop stops ffmpeg.
 */
export async function* decodeVideoFrames(file: string, opts: DecodeOptions): AsyncGenerator<Frame, void, undefined> {
  checkDecodeOptions(opts);
  checkVideoFile(file);
  const ffmpeg = resolveFfmpeg(opts);
  const { size, maxFrames } = opts;
  let out = { width: size, height: size };
  let contain: { width: number; height: number } | undefined;
  if (opts.fit === 'contain') {
    const probe = await probeVideo(file, opts);
    contain = containSize(probe.width, probe.height, size);
    out = contain;
  }
  const args = decodeArgs(file, size, await passthroughArgs(ffmpeg), maxFrames, contain);
  const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  const stderr = new StderrTail();
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => stderr.push(s));
  let spawnError: Error | undefined;
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      resolve({ code: null, signal: null });
    });
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const frameBytes = out.width * out.height * 3;
  let frame = new Uint8Array(frameBytes);
  let filled = 0;
  let count = 0;
  let done = false;
  try {
    try {
      for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
        let off = 0;
        while (off < chunk.length) {
          const n = Math.min(frameBytes - filled, chunk.length - off);
          frame.set(chunk.subarray(off, off + n), filled);
          filled += n;
          off += n;
          if (filled === frameBytes) {
            const full = frame;
            frame = new Uint8Array(frameBytes);
            filled = 0;
            if (maxFrames === undefined || count < maxFrames) {
              count++;
              yield { width: out.width, height: out.height, data: full };
            }
          }
        }
      }
    } catch (err) {
      if (!spawnError) spawnError = err as Error;
    }
    const { code, signal } = await closed;
    stderr.end();
    done = true;
    const result: RunResult = { code, signal, stdout: '', stderr, ...(spawnError ? { error: spawnError } : {}) };
    if (spawnError || code !== 0) throw failure(file, 'decode', result);
    if (count === 0) {
      const last = stderr.last;
      throw new VideoDecodeError(
        `${file}: ffmpeg decoded no frames${last ? ` (ffmpeg: ${last})` : ''}`,
        file,
        'no-frames',
        last,
      );
    }
    if (opts.onWarning) {
      const seen = new Map<string, number>();
      for (const l of stderr.lines) seen.set(l, (seen.get(l) ?? 0) + 1);
      for (const [l, n] of seen) opts.onWarning(`${basename(file)}: ffmpeg: ${l}${n > 1 ? ` (x${n})` : ''}`);
      if (filled > 0)
        opts.onWarning(`${basename(file)}: ${filled} trailing bytes after frame ${count} (less than a frame) ignored`);
    }
  } finally {
    if (!done) {
      // the consumer stopped early (break / return / throw): stop ffmpeg and reap it
      child.stdout.destroy();
      child.kill('SIGKILL');
      await closed;
    }
  }
}

/** Decodes a whole video into memory (built on decodeVideoFrames), with its source size and frame rate. */
export async function decodeVideo(file: string, opts: DecodeOptions): Promise<DecodedVideo> {
  checkDecodeOptions(opts);
  const probe = await probeVideo(file, opts);
  const warnings: string[] = [];
  const frames: Frame[] = [];
  for await (const f of decodeVideoFrames(file, {
    ...opts,
    onWarning: (m) => {
      warnings.push(m);
      opts.onWarning?.(m);
    },
  })) {
    frames.push(f);
  }
  return {
    frames,
    ...(probe.fps !== undefined ? { fps: probe.fps } : {}),
    sourceWidth: probe.width,
    sourceHeight: probe.height,
    warnings,
  };
}

/**
 * The number of frames in the first video stream, by decoding it (ffmpeg's framecrc muxer: one line per frame, no
 * pixels piped), with the same passthrough timing as decodeVideoFrames, so the two agree.
 */
export async function countVideoFrames(file: string, opts: FfmpegOptions = {}): Promise<number> {
  checkVideoFile(file);
  const ffmpeg = resolveFfmpeg(opts);
  const args = [
    '-nostdin',
    '-hide_banner',
    '-v',
    'error',
    '-i',
    file,
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-dn',
    ...(await passthroughArgs(ffmpeg)),
    '-f',
    'framecrc',
    'pipe:1',
  ];
  // one line per frame after the "#" header lines; counted as it streams
  let frames = 0;
  let atLineStart = true;
  let comment = false;
  const r = await run(ffmpeg, args, 0, (text) => {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (atLineStart) {
        comment = ch === '#';
        atLineStart = false;
      }
      if (ch === '\n') {
        if (!comment) frames++;
        atLineStart = true;
      }
    }
  });
  if (r.error || r.code !== 0) throw failure(file, 'count frames of', r);
  return frames;
}
