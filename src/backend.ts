// Backend selection. `auto` prefers TensorFlow on a GPU (tfjs-node-gpu), then WebGPU on a hardware GPU adapter
// (src/webgpu: tfjs-backend-webgpu on Dawn; never a CPU adapter such as lavapipe), then dfer's own native CPU engine
// (src/native: oneDNN kernels in tfjs' cpu backend, built when libdnnl-dev is installed), then TensorFlow on the CPU
// (tfjs-node), then WebAssembly, then the pure-JS cpu backend. The tfjs-node packages are optional dependencies whose
// install needs a download, so they are often absent.
import { existsSync, readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
// The union package registers the gradient of every op (tfjs-core's own CommonJS build does not).
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { nativeStatus } from './native/addon.js';
import { registerNativeBackend, NATIVE_BACKEND } from './native/backend.js';
import {
  probeWebGpu,
  probeWebGpuQuietly,
  registerWebGpuBackend,
  webGpuAdapter,
  webGpuInitError,
  webGpuPreferred,
  WEBGPU_BACKEND,
} from './webgpu/device.js';
import { DferError } from './errors.js';

export const BACKEND_CHOICES = ['auto', 'tensorflow', 'webgpu', 'native', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface BackendProbe {
  name: string; // tfjs backend name
  source: string; // package that provides it
  available: boolean;
  detail: string; // version, or why it is unavailable
  /** False when it works but `auto` passes it over (WebGPU on a CPU adapter). */
  preferred?: boolean;
}

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

export class BackendError extends DferError {}

async function tryLoadNative(): Promise<BackendProbe[]> {
  const probes: BackendProbe[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    try {
      const mod = (await import(pkg)) as { version?: Record<string, string> };
      probes.push({ name: 'tensorflow', source: pkg, available: true, detail: mod.version?.['tfjs-node'] ?? 'loaded' });
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0];
      probes.push({
        name: 'tensorflow',
        source: pkg,
        available: false,
        detail: msg.includes('Cannot find') ? 'not installed' : msg,
      });
    }
  }
  return probes;
}

let probeCache: Promise<BackendProbe[]> | undefined;

/** On Linux a hardware GPU has a device node (NVIDIA's /dev/nvidia0, a DRM render node); without one `auto` does not
 * load Dawn at all, which saves a CPU-only machine the time of asking for an adapter it would pass over. */
function gpuDeviceNodePresent(): boolean {
  if (process.platform !== 'linux') return true;
  try {
    return (
      readdirSync('/dev').some((n) => /^nvidia\d/.test(n)) ||
      (existsSync('/dev/dri') && readdirSync('/dev/dri').some((n) => n.startsWith('renderD')))
    );
  } catch {
    return true;
  }
}

async function probeWebGpuBackend(ask: 'no' | 'load' | 'report'): Promise<BackendProbe> {
  const source = '@tensorflow/tfjs-backend-webgpu on Dawn (webgpu)';
  if (ask === 'no')
    return {
      name: WEBGPU_BACKEND,
      source,
      available: false,
      detail: 'not probed: no GPU device node (/dev/nvidia*, /dev/dri/renderD*); --backend webgpu asks anyway',
      preferred: false,
    };
  if (ask === 'load') await registerWebGpuBackend();
  const status = ask === 'load' ? (await probeWebGpu()).status : await probeWebGpuQuietly();
  return {
    name: WEBGPU_BACKEND,
    source,
    available: status.available,
    detail: status.detail,
    preferred: webGpuPreferred(status),
  };
}

/** What is installed and loadable, in the order `auto` tries them. `webgpu: 'always'` loads Dawn and asks for an
 * adapter even where no GPU device node is seen (`--backend webgpu`); `'report'` (`dfer doctor`) does so where no
 * node is seen only in a child process, so that Dawn's driver warnings stay out of this process's stderr. */
export async function probeBackends(o: { webgpu?: 'auto' | 'always' | 'report' } = {}): Promise<BackendProbe[]> {
  const rest = await probeOthers();
  if (o.webgpu === 'always') webGpuAsked = true;
  const load = webGpuAsked || gpuDeviceNodePresent();
  return [rest[0], await probeWebGpuBackend(load ? 'load' : o.webgpu === 'report' ? 'report' : 'no'), ...rest.slice(1)];
}
let webGpuAsked = false;

function probeOthers(): Promise<BackendProbe[]> {
  probeCache ??= (async () => {
    const [gpu, tfNode] = await tryLoadNative();
    registerNativeBackend();
    const native = nativeStatus();
    return [
      gpu,
      {
        name: NATIVE_BACKEND,
        source: 'dfer native engine (native/, oneDNN)',
        available: native.available,
        detail: native.detail,
      },
      tfNode,
      { name: 'wasm', source: '@tensorflow/tfjs-backend-wasm', available: true, detail: tf.version_core },
      { name: 'cpu', source: '@tensorflow/tfjs-backend-cpu', available: true, detail: tf.version_core },
    ];
  })();
  return probeCache;
}

/** A backend `auto` may take: loadable, registered, and not passed over (WebGPU on a CPU adapter). */
const autoCandidate = (p: BackendProbe) =>
  p.available && p.preferred !== false && Boolean(tf.findBackendFactory(p.name));

/** The tfjs backend name `auto` resolves to (or the choice itself, checked). */
export async function resolveBackend(choice: BackendChoice): Promise<string> {
  const probes = await probeBackends({ webgpu: choice === WEBGPU_BACKEND ? 'always' : 'auto' });
  if (choice === 'auto') {
    const first = probes.find(autoCandidate);
    if (!first) throw new BackendError('no tfjs backend could be loaded');
    return first.name;
  }
  const found = probes.find((p) => p.name === choice && p.available);
  if (!found || !tf.findBackendFactory(choice)) {
    const why = probes
      .filter((p) => p.name === choice)
      .map((p) => `${p.source}: ${p.detail}`)
      .join('; ');
    throw new BackendError(`--backend ${choice} is not available (${why || 'unknown backend'}); try --backend auto`);
  }
  return choice;
}

/** Activate a backend for this process; returns the tfjs backend name in use. */
export async function useBackend(choice: BackendChoice = 'auto'): Promise<string> {
  // Production mode: no debug checks and no console banners (the cpu backend's "install tfjs-node" notice);
  // `dfer doctor` gives that advice instead.
  tf.enableProdMode();
  if (choice === 'auto') {
    // The first backend that initialises: a GPU adapter can be found and its device still refused (an old driver).
    const probes = (await probeBackends()).filter(autoCandidate);
    for (const p of probes) {
      if (tf.getBackend() === p.name && tf.engine().backend) return p.name;
      if (await tf.setBackend(p.name)) {
        await tf.ready();
        return tf.getBackend();
      }
    }
    throw new BackendError('no tfjs backend could be initialised (dfer doctor shows why)');
  }
  const name = await resolveBackend(choice);
  if (tf.getBackend() !== name || !tf.engine().backend) {
    const ok = await tf.setBackend(name);
    const why = name === WEBGPU_BACKEND ? webGpuInitError() : null;
    if (!ok)
      throw new BackendError(
        `--backend ${choice}: tfjs could not initialise the ${name} backend${why ? ` (${why})` : ''}`,
      );
  }
  await tf.ready();
  return tf.getBackend();
}

/** What the active backend computes on, for a run's record: the GPU adapter, or the native engine's build. */
export function backendDevice(): string | null {
  const name = tf.getBackend();
  if (name === WEBGPU_BACKEND) {
    const a = webGpuAdapter();
    return a ? `${a.description || a.device} (${a.vendor}, ${a.kind === 'gpu' ? 'GPU' : 'CPU emulation'})` : null;
  }
  if (name === NATIVE_BACKEND) return nativeStatus().detail;
  return null;
}

// The model's ops choose their path by backend (the conv-gradient rewrite, the fused kernels). `withOpPathOf` runs a
// computation on the active backend along another backend's path: the WebGPU kernel census records on a CPU backend
// the very kernel calls WebGPU will make.
let opPathOverride: string | null = null;
const opPath = () => opPathOverride ?? tf.getBackend();
export async function withOpPathOf<T>(backend: string, f: () => Promise<T>): Promise<T> {
  opPathOverride = backend;
  try {
    return await f();
  } finally {
    opPathOverride = null;
  }
}

/** True when the active backend lacks fast convolution gradients (wasm, cpu); WebGPU has its own. */
export function needsConvGradientRewrite(): boolean {
  const name = opPath();
  return name !== 'tensorflow' && name !== NATIVE_BACKEND && name !== WEBGPU_BACKEND;
}

/** True when the backend on the op path implements one of dfer's fused kernels (src/fused.ts): the native engine has
 * them all, WebGPU the elementwise ones (src/webgpu/kernels/fused.ts). Other backends take the composite ops (the cpu
 * backend's reference implementations serve the WebGPU kernel census and tests only). */
export function hasFused(kernel: string): boolean {
  const b = opPath();
  return (b === NATIVE_BACKEND || b === WEBGPU_BACKEND) && tf.getKernel(kernel, b) !== undefined;
}

export { tf };
