// Writing one synthetic clip in DFEW's layout: Clip/clip_224x224/<id>/<n>.jpg (n from 1) and, with --videos,
// Clip/original/<id>.mp4. Each is written under a temporary name and renamed when complete, so a clip folder or
// video that exists is always whole (an interrupted run leaves only *.tmp-<pid> entries, removed on the next run).
// Runs the same in the main thread and in a worker (worker.ts).
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeJpeg } from '../data/images.js';
import { renderClip, type ClipSpec } from './clip.js';
import type { Identity } from './face.js';
import { encodeArgs, VideoWriter, type VideoCodec } from './video.js';

export interface ClipJob {
  spec: ClipSpec;
  identity: Identity;
  size: number;
  quality: number;
  /** Clip/clip_224x224 of the output. */
  framesDir: string;
  /** With --videos: Clip/original, the ffmpeg binary, its codec and the frame rate. */
  video?: { dir: string; ffmpeg: string; codec: VideoCodec; fps: number };
}

export interface ClipWritten {
  index: number;
  frames: number;
  bytes: number;
}

const tmpName = (path: string) => `${path}.tmp-${process.pid}`;

export async function writeClipFiles(job: ClipJob): Promise<ClipWritten> {
  const { spec, size } = job;
  const final = join(job.framesDir, spec.id);
  const tmp = tmpName(final);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });

  const videoFile = job.video ? join(job.video.dir, `${spec.id}.mp4`) : null;
  const video =
    job.video && videoFile
      ? new VideoWriter(job.video.ffmpeg, encodeArgs(size, job.video.fps, job.video.codec, tmpName(videoFile)))
      : null;
  let bytes = 0;
  try {
    // Rendering is synchronous JavaScript; sharp encodes on its own threads meanwhile. The video gets the raw frames
    // in order (it never sees JPEG artefacts, like a camera original).
    const jpegs: Promise<Buffer>[] = [];
    const raw: Parameters<VideoWriter['write']>[0][] = [];
    renderClip(spec, job.identity, size, (frame) => {
      jpegs.push(encodeJpeg(frame, job.quality));
      if (video) raw.push(frame);
    });
    if (video) {
      for (const f of raw) await video.write(f);
      await video.close();
    }
    const encoded = await Promise.all(jpegs);
    encoded.forEach((buf, t) => {
      writeFileSync(join(tmp, `${t + 1}.jpg`), buf);
      bytes += buf.length;
    });
  } catch (err) {
    video?.kill();
    rmSync(tmp, { recursive: true, force: true });
    if (videoFile) rmSync(tmpName(videoFile), { force: true });
    throw err;
  }
  if (videoFile) renameSync(tmpName(videoFile), videoFile);
  if (existsSync(final)) rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  return { index: spec.index, frames: spec.frames, bytes };
}

/** Whether a clip was completely written by an earlier run (its folder exists, and its video if asked for). */
export function clipDone(job: Pick<ClipJob, 'framesDir' | 'video'>, id: string): boolean {
  return existsSync(join(job.framesDir, id)) && (!job.video || existsSync(join(job.video.dir, `${id}.mp4`)));
}
