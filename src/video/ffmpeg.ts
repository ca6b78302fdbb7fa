// Finding an ffmpeg binary. Video input is decoded by ffmpeg; this module only locates it, in a fixed order:
// an explicit path (a future --ffmpeg flag), DFER_FFMPEG, FFMPEG_PATH, the ffmpeg-static package,
// the @ffmpeg-installer/ffmpeg package, then `ffmpeg` on PATH. Every place looked at is reported, found or not.
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

export interface FfmpegLocation {
  path: string;
  source: string; // e.g. "DFER_FFMPEG", "ffmpeg-static", "PATH"
}

export interface FfmpegCandidate {
  source: string;
  path: string | null;
  found: boolean;
  detail: string; // why it was not usable, or "ok"
}

export interface FfmpegSearch {
  found: FfmpegLocation | null;
  /** Every source looked at, in order, up to and including the one that was used. */
  tried: FfmpegCandidate[];
}

export interface FfmpegSearchOptions {
  /** An explicit path (a --ffmpeg flag); looked at first. */
  explicit?: string;
  env?: NodeJS.ProcessEnv;
}

const require = createRequire(import.meta.url);

function executable(path: string): string | null {
  try {
    if (!statSync(path).isFile()) return 'not a file';
    accessSync(path, constants.X_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not executable' : (code ?? (err as Error).message);
  }
}

/** The binary path an npm package reports, or why there is none. */
function fromPackage(pkg: string, pick: (mod: unknown) => unknown): { path: string | null; detail: string } {
  let mod: unknown;
  try {
    mod = require(pkg);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      path: null,
      detail: code === 'MODULE_NOT_FOUND' ? 'not installed' : (err as Error).message.split('\n')[0],
    };
  }
  const path = pick(mod);
  return typeof path === 'string' && path
    ? { path, detail: '' }
    : { path: null, detail: 'installed, but has no binary for this platform' };
}

function onPath(env: NodeJS.ProcessEnv): { path: string | null; detail: string } {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  const names = process.platform === 'win32' ? ['ffmpeg.exe', 'ffmpeg'] : ['ffmpeg'];
  for (const dir of dirs) {
    for (const name of names) {
      const path = join(dir, name);
      if (executable(path) === null) return { path, detail: '' };
    }
  }
  return { path: null, detail: `no ffmpeg in ${dirs.length} PATH director${dirs.length === 1 ? 'y' : 'ies'}` };
}

type Look = () => { path: string | null; detail: string };

export function findFfmpeg(opts: FfmpegSearchOptions = {}): FfmpegSearch {
  const env = opts.env ?? process.env;
  const fromEnv =
    (name: string): Look =>
    () =>
      env[name] ? { path: env[name]!, detail: '' } : { path: null, detail: 'not set' };
  const sources: [string, Look][] = [
    ...(opts.explicit !== undefined
      ? [['--ffmpeg', () => ({ path: opts.explicit!, detail: '' })] as [string, Look]]
      : []),
    ['DFER_FFMPEG', fromEnv('DFER_FFMPEG')],
    ['FFMPEG_PATH', fromEnv('FFMPEG_PATH')],
    ['ffmpeg-static', () => fromPackage('ffmpeg-static', (m) => (m as { default?: unknown }).default ?? m)],
    ['@ffmpeg-installer/ffmpeg', () => fromPackage('@ffmpeg-installer/ffmpeg', (m) => (m as { path?: unknown }).path)],
    ['PATH', () => onPath(env)],
  ];
  const tried: FfmpegCandidate[] = [];
  for (const [source, look] of sources) {
    const { path, detail } = look();
    const problem = path === null ? detail : executable(path);
    tried.push({ source, path, found: problem === null, detail: problem ?? 'ok' });
    if (problem === null) return { found: { path: path!, source }, tried };
  }
  return { found: null, tried };
}
