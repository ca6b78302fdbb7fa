// Moving weights between dfer and the authors' PyTorch code. dfer names every tensor as the official state_dict does,
// so both directions are a change of layout (NCHW/OIHW <-> NHWC/HWIO, Linear (out, in) <-> (in, out)) plus the
// tensors the official forward pass never uses.
import { deriveShapes, type ModelConfig } from '../config.js';
import { createModel, type Model } from './network.js';
import type { ParamStore, TorchLayout } from './params.js';
import type { RawTensor, TensorMap } from './safetensors.js';
import { DferError } from '../errors.js';

export class TorchImportError extends DferError {}

/** Official tensors the forward pass never reads (MODEL.md): accepted on import, written on export. */
const UNUSED_OFFICIAL =
  /^s_former\.(bias|layer[123]\.0\.(bias1|bias2|glb\.weight)|layer1\.0\.(gc\.0|fc1\.0|fc2\.0|AUX_fc\.[01])\.weight)$|\.num_batches_tracked$/;

const product = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Permute a dense row-major array: out[...] with out axis i = in axis perm[i]. */
function permute(data: ArrayLike<number>, shape: number[], perm: number[]): Float32Array {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = shape.map((_, i) => product(shape.slice(i + 1)));
  const strides = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const idx = new Array(outShape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < idx.length; d++) src += idx[d] * strides[d];
    out[o] = data[src];
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** The PyTorch shape of a dfer tensor. */
export function torchShape(shape: number[], layout: TorchLayout): number[] {
  switch (layout) {
    case 'conv':
      return [shape[3], shape[2], shape[0], shape[1]];
    case 'depthwise':
      return [shape[2], 1, shape[0], shape[1]];
    case 'pointwise':
      return [shape[1], shape[0], 1, 1];
    case 'linear':
      return [shape[1], shape[0]];
    case 'plain':
      return shape;
  }
}

export function toTorchLayout(data: ArrayLike<number>, shape: number[], layout: TorchLayout): Float32Array {
  switch (layout) {
    case 'conv':
      return permute(data, shape, [3, 2, 0, 1]);
    case 'depthwise':
      return permute(data, shape, [2, 0, 1]);
    case 'pointwise':
    case 'linear':
      return permute(data, shape, [1, 0]);
    case 'plain':
      return Float32Array.from(data);
  }
}

export function fromTorchLayout(data: ArrayLike<number>, torch: number[], layout: TorchLayout): Float32Array {
  switch (layout) {
    case 'conv':
      return permute(data, torch, [2, 3, 1, 0]);
    case 'depthwise':
      return permute(data, [torch[0], torch[2], torch[3]], [1, 2, 0]);
    case 'pointwise':
      return permute(data, [torch[0], torch[1]], [1, 0]);
    case 'linear':
      return permute(data, torch, [1, 0]);
    case 'plain':
      return Float32Array.from(data);
  }
}

export interface ImportReport {
  loaded: number;
  ignored: string[]; // unused official tensors
}

/** Load an official state_dict into a fresh dfer model of `config`. Errors name the tensor at fault. */
export function importTorchStateDict(
  state: TensorMap,
  config: ModelConfig,
  file = 'state_dict',
): { model: Model; report: ImportReport } {
  const model = createModel(config);
  try {
    const report = loadTorchInto(model.params, state, file);
    return { model, report };
  } catch (err) {
    model.params.dispose();
    throw err;
  }
}

function loadTorchInto(params: ParamStore, state: TensorMap, file: string): ImportReport {
  const ignored: string[] = [];
  const unexpected: string[] = [];
  for (const name of state.keys()) {
    if (params.has(name)) continue;
    if (UNUSED_OFFICIAL.test(name)) ignored.push(name);
    else unexpected.push(name);
  }
  if (unexpected.length) {
    throw new TorchImportError(
      `${file}: ${unexpected.length} tensor(s) not in this network, e.g. ${unexpected.slice(0, 3).join(', ')} (wrong --preset, or a different model?)`,
    );
  }
  for (const [name, spec] of params.specs) {
    const t = state.get(name);
    const expected = torchShape(spec.shape, spec.layout);
    if (!t) throw new TorchImportError(`${file}: missing tensor ${name} (expected shape [${expected}])`);
    if (t.shape.join() !== expected.join()) {
      throw new TorchImportError(
        `${file}: tensor ${name} has shape [${t.shape}], expected [${expected}] (wrong --preset or config?)`,
      );
    }
    params.load(name, fromTorchLayout(t.data, t.shape, spec.layout));
  }
  return { loaded: params.specs.size, ignored };
}

/** The official state_dict of a dfer model: every tensor the official GenerateModel has, so strict=True loads it. */
export async function exportTorchStateDict(model: Model): Promise<TensorMap> {
  const { config: c, params } = model;
  if (c.attention !== 'gca' || !c.aux) {
    throw new TorchImportError(
      `the official code only builds GCA with its aux head; this model has attention=${c.attention}, aux=${c.aux}`,
    );
  }
  const out: TensorMap = new Map();
  const f32 = (shape: number[], data?: Float32Array): RawTensor => ({
    dtype: 'F32',
    shape,
    data: data ?? new Float32Array(product(shape)),
  });
  for (const [name, spec] of params.specs) {
    const values = await params.get(name).data();
    out.set(name, f32(torchShape(spec.shape, spec.layout), toTorchLayout(values, spec.shape, spec.layout)));
    if (name.endsWith('.running_var')) {
      out.set(name.replace(/running_var$/, 'num_batches_tracked'), {
        dtype: 'I64',
        shape: [],
        data: new Float64Array([0]),
      });
    }
  }
  // Tensors the official modules create but never use; zeros keep the file loadable and change nothing.
  const shapes = deriveShapes(c);
  const stem = c.stemWidth;
  out.set('s_former.bias', f32([1, stem, 1, 1]));
  const w1 = c.widths[0];
  const layers: [string, number][] = [
    ['layer1', w1],
    ['layer2', c.widths[1]],
    ['layer3', c.widths[2]],
  ];
  for (const [layer, width] of layers) {
    const p = `s_former.${layer}.0`;
    out.set(`${p}.bias1`, f32([1, width, 1, 1]));
    out.set(`${p}.bias2`, f32([1, width, 1, 1]));
    out.set(`${p}.glb.weight`, f32([width, width, 1, 1]));
  }
  const l1 = 's_former.layer1.0';
  out.set(`${l1}.AUX_fc.0.weight`, f32([2 * w1, w1]));
  out.set(`${l1}.AUX_fc.1.weight`, f32([c.numClasses, 2 * w1]));
  out.set(`${l1}.gc.0.weight`, f32([w1, 1, shapes.layer1, shapes.layer1]));
  out.set(`${l1}.fc1.0.weight`, f32([w1 / c.reduction, w1, 1, 1]));
  out.set(`${l1}.fc2.0.weight`, f32([w1, w1 / c.reduction, 1, 1]));
  return out;
}
