// Output buffers for the native kernels, recycled. A fresh Float32Array costs more than most kernels that fill it:
// its pages are faulted in and zeroed on first write (measured: a 2 MB broadcast multiply took 0.7 ms with a fresh
// output and ~0.2 ms into warm memory). Training repeats the same shapes every step, so the arrays of disposed
// tensors are kept by length and handed out again.
//
// An array is recycled only when nothing else can still see it. The backend records, for each array it issued:
//   owned   registered to exactly one tensor, never read out: recycled when that tensor's data is freed
//   shared  registered twice, viewed by another tensor (a cpu kernel's subarray), or read out by dataSync()/data():
//           left to the garbage collector like any other array
import { totalmem } from 'node:os';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { DataId, DataType, backend_util } from '@tensorflow/tfjs-core';

type State = 'issued' | 'owned' | 'shared';

/** DFER_NATIVE_POOL_MB (default: half the machine's memory; 0 = off): the most memory kept for reuse. Peak RSS barely
 * changes with it (without reuse the same arrays wait for the garbage collector), but a cap below one step's
 * activations forfeits the gain: the paper preset at batch 40 trained at 2.8 clips/s with 2 GB, 3.8 with 8 GB.
 * DFER_NATIVE_POOL_POISON=1 fills every recycled array with NaN first, so that a kernel relying on zeroed memory fails
 * the tests instead of passing by luck. */
function poolSettings() {
  const defaultMb = Math.floor(totalmem() / 2 / 2 ** 20);
  const mb = Number(process.env.DFER_NATIVE_POOL_MB ?? defaultMb);
  return {
    capBytes: (Number.isFinite(mb) && mb >= 0 ? mb : defaultMb) * 2 ** 20,
    poison: process.env.DFER_NATIVE_POOL_POISON === '1',
  };
}

export class PooledCpuBackend extends MathBackendCPU {
  private readonly free = new Map<number, Float32Array[]>();
  private freeBytes = 0;
  private readonly state = new WeakMap<Float32Array, State>();
  /** The array that owns each issued buffer, to recognise views of it. */
  private readonly byBuffer = new WeakMap<ArrayBufferLike, Float32Array>();
  private readonly settings = poolSettings();
  /** Counters for tests and the profile: arrays issued fresh, issued recycled, and given back. */
  readonly poolStats = { fresh: 0, reused: 0, returned: 0 };

  /** A float32 output buffer of n elements. Its contents are arbitrary: a kernel must write every element. */
  alloc(n: number): Float32Array {
    const list = this.free.get(n);
    let a = list?.pop();
    if (a) {
      this.freeBytes -= a.byteLength;
      this.poolStats.reused++;
      if (this.settings.poison) a.fill(Number.NaN);
    } else {
      a = new Float32Array(n);
      this.poolStats.fresh++;
      this.byBuffer.set(a.buffer, a);
    }
    this.state.set(a, 'issued');
    return a;
  }

  /** Like alloc, but zeroed (a fresh array already is). */
  allocZeroed(n: number): Float32Array {
    const reusedBefore = this.poolStats.reused;
    const a = this.alloc(n);
    if (this.poolStats.reused !== reusedBefore) a.fill(0);
    return a;
  }

  private register(values: backend_util.BackendValues): void {
    if (!(values instanceof Float32Array)) return this.markShared(values);
    const s = this.state.get(values);
    if (s === 'issued') this.state.set(values, 'owned');
    else if (s === 'owned')
      this.state.set(values, 'shared'); // a second tensor on the same array
    else if (s === undefined) this.markShared(values); // a view of an issued array, or someone else's array
  }

  private markShared(values: backend_util.BackendValues | undefined): void {
    const buffer = (values as ArrayBufferView | undefined)?.buffer;
    const owner = buffer ? this.byBuffer.get(buffer) : undefined;
    if (owner) this.state.set(owner, 'shared');
  }

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    this.register(values);
    return super.write(values, shape, dtype);
  }

  override move(
    dataId: DataId,
    values: backend_util.BackendValues,
    shape: number[],
    dtype: DataType,
    refCount: number,
  ): void {
    this.register(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    const values = super.readSync(dataId);
    this.markShared(values); // the caller may keep it
    return values;
  }

  override async read(dataId: DataId): Promise<backend_util.BackendValues> {
    const values = await super.read(dataId);
    this.markShared(values);
    return values;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const freed = super.disposeData(dataId, force);
    if (values instanceof Float32Array && !this.data.has(dataId) && this.state.get(values) === 'owned') {
      this.state.delete(values);
      if (this.freeBytes + values.byteLength <= this.settings.capBytes) {
        const list = this.free.get(values.length) ?? [];
        list.push(values);
        this.free.set(values.length, list);
        this.freeBytes += values.byteLength;
        this.poolStats.returned++;
      }
    }
    return freed;
  }
}
