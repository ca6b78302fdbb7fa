// The safetensors format: u64 little-endian header length, a JSON header
// {"name": {"dtype", "shape", "data_offsets": [start, end]}, "__metadata__": {...}}, then raw little-endian bytes.
// This module owns reading and writing it; every error names the file and what is wrong.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../atomic.js';
import { DferError } from '../errors.js';

export type DType = 'F32' | 'F64' | 'I64' | 'I32' | 'U8';
const BYTES: Record<DType, number> = { F32: 4, F64: 8, I64: 8, I32: 4, U8: 1 };

export interface RawTensor {
  dtype: DType;
  shape: number[];
  /** Values as float32 (F32, F64) or as exact integers in a Float64Array (I64, I32, U8). */
  data: Float32Array | Float64Array;
}

export type TensorMap = Map<string, RawTensor>;

export class SafetensorsError extends DferError {}

const MAX_HEADER = 100 * 1024 * 1024;

export function parseSafetensors(
  bytes: Uint8Array,
  file = '<buffer>',
): { tensors: TensorMap; metadata: Record<string, string> } {
  const fail = (why: string): never => {
    throw new SafetensorsError(`${file}: ${why}`);
  };
  if (bytes.length < 8) fail(`not a safetensors file (${bytes.length} bytes, too short for a header)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen === 0 || headerLen > MAX_HEADER) fail('not a safetensors file (implausible header length)');
  if (8 + headerLen > bytes.length) fail(`truncated: header of ${headerLen} bytes but the file has ${bytes.length}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch {
    return fail('not a safetensors file (header is not JSON)');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    fail('not a safetensors file (header is not an object)');
  const dataStart = 8 + headerLen;
  const tensors: TensorMap = new Map();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    const dtype = e.dtype as DType;
    if (!(dtype in BYTES))
      fail(`tensor ${name} has unsupported dtype ${e.dtype} (supported: ${Object.keys(BYTES).join(', ')})`);
    if (!Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) fail(`tensor ${name} lacks shape or data_offsets`);
    const [start, end] = e.data_offsets!;
    const count = e.shape!.reduce((a, b) => a * b, 1);
    if (end - start !== count * BYTES[dtype])
      fail(`tensor ${name}: ${end - start} bytes do not match shape [${e.shape}] of ${dtype}`);
    if (dataStart + end > bytes.length)
      fail(`truncated: tensor ${name} ends at byte ${dataStart + end} but the file has ${bytes.length}`);
    tensors.set(name, { dtype, shape: e.shape!, data: decode(bytes, dataStart + start, count, dtype) });
  }
  return { tensors, metadata };
}

function decode(bytes: Uint8Array, offset: number, count: number, dtype: DType): Float32Array | Float64Array {
  const copy = Uint8Array.prototype.slice.call(bytes, offset, offset + count * BYTES[dtype]); // aligned copy (Buffer.slice would be a view)
  switch (dtype) {
    case 'F32':
      return new Float32Array(copy.buffer);
    case 'F64':
      return new Float32Array(new Float64Array(copy.buffer));
    case 'I64':
      return Float64Array.from(new BigInt64Array(copy.buffer), (v) => Number(v));
    case 'I32':
      return Float64Array.from(new Int32Array(copy.buffer));
    case 'U8':
      return Float64Array.from(copy);
  }
}

export function readSafetensors(file: string): { tensors: TensorMap; metadata: Record<string, string> } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new SafetensorsError(
      `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  return parseSafetensors(bytes, file);
}

function encode(t: RawTensor): Uint8Array {
  switch (t.dtype) {
    case 'F32':
      return new Uint8Array(Float32Array.from(t.data).buffer);
    case 'F64':
      return new Uint8Array(Float64Array.from(t.data).buffer);
    case 'I64':
      return new Uint8Array(BigInt64Array.from(t.data, (v) => BigInt(Math.round(v))).buffer);
    case 'I32':
      return new Uint8Array(Int32Array.from(t.data).buffer);
    case 'U8':
      return Uint8Array.from(t.data);
  }
}

export function serializeSafetensors(tensors: TensorMap, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = encode(t);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // keep the data 8-byte aligned, as the reference writer does
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([head, Buffer.from(json), ...chunks]);
}

export function writeSafetensors(file: string, tensors: TensorMap, metadata: Record<string, string> = {}): void {
  writeFileAtomic(file, serializeSafetensors(tensors, metadata));
}
