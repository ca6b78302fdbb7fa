// Seconds to predict a video's expression timeline, split into decode (both passes), face detection, alignment and
// the network: a 1-minute 25 fps 720p video made from the shared face video (Megamind.avi looped and scaled), the
// official weights (paper preset), the faces found every --detect-every frames. Medians over --runs.
// Usage: npm run bench:video -- [--seconds 60] [--runs 1] [--detect-every 5] [--backend native] [--json]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = (p: string) => import(new URL(`../dist/src/${p}`, import.meta.url).href);
const { predictVideos } = await dist('model/predict-video.js');
const { findFfmpeg } = await dist('video/ffmpeg.js');

const argv = process.argv.slice(2);
const flag = (name: string, d: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : d;
};
const SECONDS = Number(flag('seconds', '60'));
const RUNS = Number(flag('runs', '1'));
const EVERY = Number(flag('detect-every', '5'));
const BACKEND = flag('backend', 'auto');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.DFER_SHARED ?? join(root, '..', 'shared');

const work = mkdtempSync(join(tmpdir(), 'dfer-bench-video-'));
try {
  const video = join(work, 'video-720p.mp4');
  const ffmpeg = findFfmpeg().found!.path;
  execFileSync(ffmpeg, [
    '-v',
    'error',
    '-stream_loop',
    '-1',
    '-i',
    join(shared, 'fixtures', 'video', 'Megamind.avi'),
    '-t',
    String(SECONDS),
    '-vf',
    'scale=1280:720,fps=25',
    '-an',
    '-pix_fmt',
    'yuv420p',
    video,
  ]);
  const ckpt = join(work, 'paper');
  execFileSync(
    process.execPath,
    [
      join(root, 'bin', 'run.js'),
      'import',
      join(shared, 'golden', 'official-gca-ial', 'weights.safetensors'),
      '--preset',
      'paper',
      '--out',
      ckpt,
      '--json',
    ],
    { stdio: 'ignore' },
  );
  const runs: { total: number; decode: number; detect: number; align: number; network: number; windows: number }[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const out = await predictVideos({
      checkpoint: ckpt,
      inputs: [video],
      window: 2,
      stride: 1,
      faces: 'detect',
      detectEvery: EVERY,
      fps: 25,
      batchSize: 8,
      backend: BACKEND,
    });
    const v = out.videos[0];
    runs.push({ total: (performance.now() - t0) / 1000, ...v.seconds, windows: v.windows.length });
    if (r === 0)
      console.error(
        `backend ${out.backend}; ${v.faces.frames} frames, face in ${v.faces.found} of ${v.faces.checked} checked; ${v.windows.length} windows`,
      );
  }
  const median = (k: keyof (typeof runs)[number]) =>
    [...runs.map((x) => x[k])].sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  const row = {
    seconds: SECONDS,
    detectEvery: EVERY,
    runs: RUNS,
    total: median('total'),
    decode: median('decode'),
    detect: median('detect'),
    align: median('align'),
    network: median('network'),
  };
  if (argv.includes('--json')) console.log(JSON.stringify(row));
  else {
    console.log(`a ${SECONDS} s 25 fps 1280x720 video, faces every ${EVERY} frames, median of ${RUNS} run(s):`);
    for (const k of ['total', 'decode', 'detect', 'align', 'network'] as const)
      console.log(
        `  ${k.padEnd(8)} ${row[k].toFixed(1)} s${k === 'total' ? '' : `  (${((100 * row[k]) / row.total).toFixed(0)}%)`}`,
      );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
