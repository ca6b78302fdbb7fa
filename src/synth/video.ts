// Synthetic clips as mp4 files (`dfer synth --videos`, DFEW's Clip/original/<id>.mp4): raw RGB frames piped into
// ffmpeg (an argument array, never a shell). H.264 (libx264) when the ffmpeg has it, MPEG-4 part 2 otherwise;
// single-threaded and bit-exact so that a seed gives the same file on every run with the same ffmpeg.
import { spawn, spawnSync } from 'node:child_process';
import type { Frame } from '../data/images.js';

export type VideoCodec = 'libx264' | 'mpeg4';

/** The codec this ffmpeg can encode with (libx264 preferred). */
export function pickVideoCodec(ffmpeg: string): VideoCodec {
  const r = spawnSync(ffmpeg, ['-hide_banner', '-encoders'], { encoding: 'utf8', maxBuffer: 8 << 20 });
  return /^\s*V\S*\s+libx264\s/m.test(r.stdout ?? '') ? 'libx264' : 'mpeg4';
}

/** ffmpeg's arguments: raw RGB frames on stdin -> `file` (mp4). Odd sizes are padded to even (4:2:0 needs it). */
export function encodeArgs(size: number, fps: number, codec: VideoCodec, file: string): string[] {
  const codecArgs =
    codec === 'libx264'
      ? ['-c:v', 'libx264', '-preset', 'fast', '-crf', '18', '-threads', '1']
      : ['-c:v', 'mpeg4', '-q:v', '2', '-threads', '1'];
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-video_size',
    `${size}x${size}`,
    '-framerate',
    String(fps),
    '-i',
    'pipe:0',
    ...(size % 2 ? ['-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2'] : []),
    ...codecArgs,
    '-pix_fmt',
    'yuv420p',
    '-map_metadata',
    '-1',
    '-fflags',
    '+bitexact',
    '-flags:v',
    '+bitexact',
    '-f',
    'mp4',
    '-y',
    file,
  ];
}

/** An ffmpeg process taking frames one at a time (with backpressure) and writing `file`. */
export class VideoWriter {
  private readonly child;
  private stderr = '';
  private readonly exited: Promise<{ code: number | null; error?: Error }>;

  constructor(ffmpeg: string, args: string[]) {
    this.child = spawn(ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'], windowsHide: true });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (s: string) => {
      if (this.stderr.length < 4096) this.stderr += s;
    });
    this.child.stdin.on('error', () => {}); // EPIPE when ffmpeg dies early: reported by close()
    this.exited = new Promise((resolve) => {
      let error: Error | undefined;
      this.child.once('error', (e) => (error = e));
      this.child.once('close', (code) => resolve({ code, ...(error ? { error } : {}) }));
    });
  }

  async write(frame: Frame): Promise<void> {
    if (!this.child.stdin.write(frame.data)) {
      await new Promise<void>((resolve) => {
        this.child.stdin.once('drain', resolve);
        this.child.once('close', () => resolve());
      });
    }
  }

  /** Ends the input and waits for ffmpeg; throws with ffmpeg's last error line if it failed. */
  async close(): Promise<void> {
    this.child.stdin.end();
    const { code, error } = await this.exited;
    if (error) throw new Error(`cannot run ffmpeg: ${error.message}`);
    if (code !== 0)
      throw new Error(
        `ffmpeg failed to encode a synthetic clip (exit ${code}): ${this.stderr.trim().split('\n').pop() ?? ''}`,
      );
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}
