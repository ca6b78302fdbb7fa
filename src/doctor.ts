// `dfer doctor`: what this machine offers dfer (runtime, tfjs backends, ffmpeg) and what would make it better.
// Never throws for a missing piece: every problem becomes part of the report.
import { probeBackends, resolveBackend, tf, useBackend, type BackendChoice, type BackendProbe } from './backend.js';
import { NATIVE_BACKEND } from './native/backend.js';
import { PreparedSet } from './data/store.js';
import { VERSION } from './version.js';
import { findFfmpeg, type FfmpegSearch } from './video/ffmpeg.js';
import { probeWebGpuQuietly, WEBGPU_HINT, type WebGpuStatus } from './webgpu/device.js';

export interface BackendCheck {
  choice: BackendChoice;
  /** The tfjs backend the choice resolved to, when it did. */
  name: string | null;
  ok: boolean;
  /** "ran a test op" or why the backend could not be used. */
  detail: string;
}

export interface DoctorReport {
  dfer: string;
  node: string;
  platform: string;
  tfjs: string;
  /** In the order `--backend auto` tries them. */
  backends: BackendProbe[];
  /** What `--backend auto` picks, or null when nothing loads. */
  auto: string | null;
  /** The requested backend, initialised and given a small computation. */
  check: BackendCheck;
  ffmpeg: FfmpegSearch;
  /** The WebGPU adapter (vendor, architecture, device, driver, limits), or why there is none. */
  webgpu: WebGpuStatus;
  hints: string[];
}

const MIN_NODE = 20;

async function checkBackend(choice: BackendChoice): Promise<BackendCheck> {
  try {
    const name = await useBackend(choice);
    const t = tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).sum());
    const sum = (await t.data())[0];
    t.dispose();
    if (sum !== 12) return { choice, name, ok: false, detail: `test op returned ${sum}, expected 12` };
    return { choice, name, ok: true, detail: 'initialised and ran a test op' };
  } catch (err) {
    return { choice, name: null, ok: false, detail: (err as Error).message };
  }
}

export async function diagnose(choice: BackendChoice = 'auto'): Promise<DoctorReport> {
  const backends = await probeBackends({ webgpu: choice === 'webgpu' ? 'always' : 'report' });
  const webgpu = await probeWebGpuQuietly(); // the probe above's status (cached), with the adapter's details
  const auto = await resolveBackend('auto').catch(() => null);
  const check = await checkBackend(choice);
  const ffmpeg = findFfmpeg();

  const hints: string[] = [];
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  if (nodeMajor < MIN_NODE) hints.push(`dfer needs Node ${MIN_NODE} or newer; this is ${process.version}`);
  const native = backends.find((b) => b.name === NATIVE_BACKEND);
  if (native && !native.available) {
    hints.push(`dfer's native CPU engine (several times faster than wasm) is unavailable: ${native.detail}`);
  }
  if (!backends.some((b) => b.name === 'tensorflow' && b.available)) {
    hints.push('for a GPU: npm install @tensorflow/tfjs-node-gpu (needs CUDA and a download of libtensorflow)');
  }
  if (!webgpu.available)
    hints.push(
      `for a GPU through WebGPU: ${webgpu.detail.includes(WEBGPU_HINT) ? webgpu.detail : `${webgpu.detail}; ${WEBGPU_HINT}`}`,
    );
  else if (webgpu.adapter?.kind === 'cpu') {
    hints.push(
      'the WebGPU adapter is a CPU emulation (correct, slow): --backend auto passes it over; --backend webgpu or DFER_WEBGPU_ALLOW_CPU=1 uses it',
    );
  }
  if (!check.ok)
    hints.push(`--backend ${choice} does not work here${auto ? `; --backend auto would use ${auto}` : ''}`);
  if (!ffmpeg.found) {
    hints.push(
      'ffmpeg (needed only for video input): apt-get install ffmpeg, brew install ffmpeg, npm install ffmpeg-static, or set DFER_FFMPEG=/path/to/ffmpeg',
    );
  }

  return {
    dfer: VERSION,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    tfjs: tf.version_core,
    backends,
    auto,
    check,
    ffmpeg,
    webgpu,
    hints,
  };
}

/** `dfer doctor --data`: every clip of a prepared set against its manifest's SHA-256. */
export async function verifyPreparedSet(dir: string, onProgress?: (done: number, total: number) => void) {
  const set = PreparedSet.open(dir);
  return { dir, ...(await set.verify(onProgress)) };
}
export type DataCheck = Awaited<ReturnType<typeof verifyPreparedSet>>;
