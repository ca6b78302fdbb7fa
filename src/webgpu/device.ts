// The GPU path: TensorFlow.js' WebGPU backend (@tensorflow/tfjs-backend-webgpu) on Dawn (the `webgpu` npm package,
// which ships a prebuilt dawn.node), registered by dfer rather than by the package, for three reasons:
//  - the device is requested with the adapter's maximum limits, and a buffer that would exceed them is refused with an
//    error that names the batch size to use, instead of the silently wrong results WebGPU gives past the limit;
//  - Dawn's validation and out-of-memory errors (which otherwise go to stderr while the command buffer is dropped and
//    the step returns zeros) are collected and thrown at the next read from the GPU;
//  - dfer's own kernels (src/webgpu/kernels) replace the stock ones that are wrong or slow for this network.
// DFER_WEBGPU=0 disables the path; DFER_WEBGPU_ALLOW_CPU=1 lets `auto` pick a CPU adapter (lavapipe, SwiftShader).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { registerWebGpuKernels } from './kernels/index.js';
import { DferError } from '../errors.js';

export const WEBGPU_BACKEND = 'webgpu';

/** What `dfer doctor` shows of the adapter, and what `auto` decides by. */
export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** 'cpu' for software adapters (Mesa's lavapipe/llvmpipe, SwiftShader, any fallback adapter): correct but slow. */
  kind: 'gpu' | 'cpu';
  limits: {
    maxStorageBufferBindingSize: number;
    maxBufferSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupsPerDimension: number;
  };
}

export interface WebGpuStatus {
  available: boolean;
  /** The adapter when one was found; otherwise `detail` says why not and what to do. */
  adapter: AdapterReport | null;
  detail: string;
}

export const WEBGPU_HINT =
  "npm install webgpu@0.6.2 (ships Dawn) and a Vulkan driver: the GPU vendor's, or for testing without a GPU Mesa's lavapipe (Debian bookworm-backports: mesa-vulkan-drivers libvulkan1)";

/** A GPU error Dawn reported (validation, out of memory, internal), or a tensor too large for the device. */
export class WebGpuError extends Error {}

// Minimal structural types for the WebGPU objects we touch (the full @webgpu/types are not needed at run time).
interface GpuAdapterLike {
  info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  limits: Record<string, number>;
  features: Set<string>;
  requestDevice(desc: unknown): Promise<GpuDeviceLike>;
}
interface GpuDeviceLike {
  limits: Record<string, number>;
  lost: Promise<{ message: string; reason: string }>;
  addEventListener?(
    type: 'uncapturederror',
    cb: (ev: { error: { message: string; constructor: { name: string } } }) => void,
  ): void;
  onuncapturederror?: ((ev: { error: { message: string } }) => void) | null;
  queue: { onSubmittedWorkDone(): Promise<void> };
}
interface GpuLike {
  requestAdapter(o: { powerPreference: string }): Promise<GpuAdapterLike | null>;
}

const CPU_ADAPTER = /llvmpipe|lavapipe|swiftshader|software|microsoft basic render/i;

function describe(adapter: GpuAdapterLike): AdapterReport {
  const info = adapter.info;
  const l = adapter.limits;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  const fallback = adapter.isFallbackAdapter ?? info.isFallbackAdapter ?? false;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    kind: fallback || CPU_ADAPTER.test(text) ? 'cpu' : 'gpu',
    limits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    },
  };
}

let adapterReport: AdapterReport | null = null;
/** The adapter found by the probe (null before it, or when there is none). */
export function webGpuAdapter(): AdapterReport | null {
  return adapterReport;
}

let adapterCache: Promise<{ adapter: GpuAdapterLike | null; status: WebGpuStatus }> | undefined;

/** Load Dawn and ask for the high-performance adapter, once per process. Never throws. */
export function probeWebGpu(): Promise<{ adapter: GpuAdapterLike | null; status: WebGpuStatus }> {
  adapterCache ??= (async () => {
    const none = (detail: string) => ({ adapter: null, status: { available: false, adapter: null, detail } });
    if (process.env.DFER_WEBGPU === '0') return none('disabled by DFER_WEBGPU=0');
    let dawn: { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
    try {
      dawn = (await import('webgpu' as string)) as typeof dawn;
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0];
      return none(
        /Cannot find|ERR_MODULE_NOT_FOUND/.test(`${msg} ${(err as { code?: string }).code}`)
          ? `not installed (${WEBGPU_HINT})`
          : `Dawn failed to load: ${msg}`,
      );
    }
    // tfjs-backend-webgpu refers to GPUBufferUsage, GPUMapMode... as globals, as in a browser.
    for (const [k, v] of Object.entries(dawn.globals))
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    let gpu: GpuLike;
    try {
      gpu = dawn.create([]);
    } catch (err) {
      return none(`Dawn could not start: ${(err as Error).message.split('\n')[0]}`);
    }
    // The backend checks for navigator.gpu, as in a browser (Node 20 has no navigator; Node 21+ has one without gpu).
    const nav = ((globalThis as { navigator?: object }).navigator ?? {}) as Record<string, unknown>;
    if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
    if (!(globalThis as { navigator?: object }).navigator)
      Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true });
    let adapter: GpuAdapterLike | null = null;
    try {
      adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    } catch (err) {
      return none(`no adapter: ${(err as Error).message}`);
    }
    if (!adapter) return none(`no WebGPU adapter: no Vulkan driver found (${WEBGPU_HINT})`);
    const report = describe(adapter);
    adapterReport = report;
    const detail = `${report.description || report.device} (${report.vendor}${report.kind === 'cpu' ? ', a CPU adapter: correct but slow' : ''})`;
    return { adapter, status: { available: true, adapter: report, detail } };
  })();
  return adapterCache;
}

/** The adapter status from a child process (see probe-child.ts), so that Dawn's own stderr output stays there; the
 * in-process probe where the child script is not built (running from the TypeScript sources). */
let quietCache: Promise<WebGpuStatus> | undefined;
export function probeWebGpuQuietly(): Promise<WebGpuStatus> {
  quietCache ??= probeInChild();
  return quietCache;
}

async function probeInChild(): Promise<WebGpuStatus> {
  // Once Dawn is loaded here, or where the child script is not built (running from the sources), ask here.
  const child = fileURLToPath(new URL('./probe-child.js', import.meta.url));
  if (adapterCache || !existsSync(child) || process.env.DFER_WEBGPU === '0') return (await probeWebGpu()).status;
  const r = spawnSync(process.execPath, [child], { encoding: 'utf8', timeout: 60_000, env: process.env });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const status = JSON.parse(line) as WebGpuStatus;
    adapterReport ??= status.adapter;
    return status;
  } catch {
    return {
      available: false,
      adapter: null,
      detail: `the adapter probe failed (${(r.error?.message ?? r.stderr ?? '').trim().split('\n').pop() || `exit ${r.status}`})`,
    };
  }
}

/** True when `auto` may pick WebGPU: a hardware adapter, or any adapter with DFER_WEBGPU_ALLOW_CPU=1. */
export function webGpuPreferred(status: WebGpuStatus): boolean {
  return status.available && (status.adapter?.kind === 'gpu' || process.env.DFER_WEBGPU_ALLOW_CPU === '1');
}

// ---------------------------------------------------------------------------------------------------------------
// Errors: Dawn reports them asynchronously, per device. They are collected here and thrown at the next read.

const pendingErrors: string[] = [];
let deviceLost: string | null = null;

/** Throws (and clears) the GPU errors reported since the last check. */
export function throwPendingGpuErrors(): void {
  if (deviceLost) throw new WebGpuError(`the GPU device was lost: ${deviceLost}`);
  if (!pendingErrors.length) return;
  const first = pendingErrors[0];
  const more = pendingErrors.length > 1 ? ` (and ${pendingErrors.length - 1} more)` : '';
  pendingErrors.length = 0;
  throw new WebGpuError(`the GPU reported an error, so results since the last read are invalid: ${first}${more}`);
}

/** The largest tensor the device can bind, in bytes (null before the backend exists). */
let bindingLimit: number | null = null;
export function maxBindingBytes(): number | null {
  return bindingLimit;
}

/** Thrown when a tensor would exceed the device's binding limit; the training and eval loops turn it into advice. */
/** A tensor too large for this GPU: bad input (a smaller batch), not a broken device. */
export class GpuBufferTooLargeError extends DferError {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      `a ${(bytes / 2 ** 20).toFixed(0)} MiB tensor exceeds this GPU's largest storage binding (${(limit / 2 ** 20).toFixed(0)} MiB, maxStorageBufferBindingSize); use a smaller --batch-size`,
    );
  }
}

/** What to do about a tensor too large for the GPU's bindings: the largest batch that fits, since activations scale
 * with the batch (`flag` is the flag that sets it, e.g. --batch). */
export function batchAdvice(err: GpuBufferTooLargeError, flag: string, batch: number): string {
  const fits = Math.floor((batch * err.limit) / err.bytes);
  const mib = (n: number) => `${Math.ceil(n / 2 ** 20)} MiB`;
  return fits >= 1
    ? `${flag} ${batch} needs a ${mib(err.bytes)} tensor, more than this GPU can bind (${mib(err.limit)}); use ${flag} ${fits} or less`
    : `one clip needs a ${mib(err.bytes / batch)} tensor, more than this GPU can bind (${mib(err.limit)}); use a smaller preset or another backend`;
}

interface BackendInternals {
  device: GpuDeviceLike;
  bufferManager: { acquireBuffer(size: number, usage: number, mappedAtCreation?: boolean, reuse?: boolean): unknown };
  read(dataId: object): Promise<unknown>;
  readSync(dataId: object): unknown;
  tensorMap: { get(dataId: object): { values?: unknown } | undefined };
}

function guardBackend(backend: BackendInternals, device: GpuDeviceLike): void {
  const limit = device.limits.maxStorageBufferBindingSize;
  bindingLimit = limit;
  // Every tensor's buffer is acquired here; one larger than a binding can hold would be read and written only in part.
  const acquire = backend.bufferManager.acquireBuffer.bind(backend.bufferManager);
  backend.bufferManager.acquireBuffer = (size, usage, mapped, reuse) => {
    // Storage buffers only: staging (MAP_READ) buffers for downloads are never bound to a shader.
    const storage = (usage & 0x80) !== 0; // GPUBufferUsage.STORAGE
    if (storage && size > limit) throw new GpuBufferTooLargeError(size, limit);
    return acquire(size, usage, mapped, reuse);
  };
  // In Node the stock synchronous read needs OffscreenCanvas and fails with a ReferenceError; say what to do instead.
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (dataId) => {
    if (backend.tensorMap.get(dataId)?.values != null) return readSync(dataId);
    throw new WebGpuError(
      'a synchronous read (dataSync, arraySync) of a tensor on the GPU: read it with await tensor.data()',
    );
  };
  const read = backend.read.bind(backend);
  backend.read = async (dataId) => {
    const values = await read(dataId);
    throwPendingGpuErrors();
    return values;
  };
}

let registered = false;

/** Register the 'webgpu' tfjs backend (dfer's factory) when Dawn is installed. Idempotent; never throws. */
export async function registerWebGpuBackend(): Promise<void> {
  if (registered) return;
  registered = true;
  const { adapter } = await probeWebGpu();
  if (!adapter) return;
  type Mod = { WebGPUBackend: new (device: unknown, info: unknown) => tf.KernelBackend };
  const mod = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as Mod & { default?: Mod };
  const WebGPUBackend = mod.WebGPUBackend ?? mod.default!.WebGPUBackend; // CommonJS seen from ESM: bundled, on .default
  if (tf.findBackendFactory(WEBGPU_BACKEND)) tf.removeBackend(WEBGPU_BACKEND); // the package's own, where it registered one
  tf.registerBackend(
    WEBGPU_BACKEND,
    async () => {
      try {
        return await createBackend();
      } catch (err) {
        // tfjs swallows a failing factory ("could not initialise"); keep the reason for useBackend's message.
        lastInitError = (err as Error).message.split('\n')[0];
        throw err;
      }
    },
    4, // above the package's priority 3; dfer's `auto` decides the order anyway
  );
  registerWebGpuKernels(WEBGPU_BACKEND);

  async function createBackend(): Promise<tf.KernelBackend> {
    const l = adapter!.limits;
    const requiredFeatures = adapter!.features.has('timestamp-query') ? ['timestamp-query'] : [];
    // Ask for the adapter's maxima: the defaults (128 MiB bindings, 256 MiB buffers) are far below a real GPU's.
    const device = await adapter!.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      },
    });
    const onError = (ev: { error: { message: string } }) => pendingErrors.push(ev.error.message.split('\n')[0]);
    if (device.addEventListener) device.addEventListener('uncapturederror', onError);
    else device.onuncapturederror = onError;
    void device.lost.then((info) => {
      if (info.reason !== 'destroyed') deviceLost = info.message || info.reason;
    });
    const backend = new WebGPUBackend(device, adapter!.info);
    guardBackend(backend as unknown as BackendInternals, device);
    return backend;
  }
}

let lastInitError: string | null = null;
/** Why the WebGPU backend failed to initialise, when it did. */
export function webGpuInitError(): string | null {
  return lastInitError;
}

/** Bytes the backend holds on the GPU (tfjs' own count), or null on another backend. */
export function gpuBytesInUse(): number | null {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
  return tf.getBackend() === WEBGPU_BACKEND && typeof m.numBytesInGPU === 'number' ? m.numBytesInGPU : null;
}
