import type { ExportResult } from '../export/export.js';
import type { ExportTorchResult, ImportTorchResult } from '../model/convert.js';
import type { View } from './output.js';

const MAX_LISTED = 12;

export function importView(r: ImportTorchResult): View {
  const ignored = r.ignored.length
    ? [
        `ignored ${r.ignored.length} official tensor(s) the forward pass never uses:`,
        ...r.ignored.slice(0, MAX_LISTED).map((n) => `  ${n}`),
      ]
    : ['ignored no tensors'];
  if (r.ignored.length > MAX_LISTED) ignored.push(`  ... and ${r.ignored.length - MAX_LISTED} more (--json lists all)`);
  return {
    json: {
      backend: r.backend,
      input: r.input,
      preset: r.preset,
      checkpoint: r.checkpoint,
      loaded: r.loaded,
      ignored: r.ignored,
      source: r.meta.source,
    },
    text: [
      `imported ${r.input} (preset ${r.preset}, backend ${r.backend})`,
      `loaded ${r.loaded} tensors`,
      ...ignored,
      `wrote ${r.checkpoint.weights}`,
      `wrote ${r.checkpoint.meta}`,
    ],
  };
}

export function exportView(r: ExportTorchResult): View {
  return {
    json: r,
    text: [
      `exported ${r.checkpoint} as a PyTorch state_dict: ${r.tensors} tensors, ${r.values.toLocaleString('en-US')} values`,
      `wrote ${r.out}`,
    ],
  };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export function modelExportView(r: ExportResult): View {
  const what = r.format === 'onnx' ? `an ONNX model (opset ${r.opset})` : 'a TensorFlow.js graph model';
  const v = r.verification;
  const verified = v.verified
    ? `verified with ${v.runtime} on ${v.clips} random clips: logits and features within ${v.logitsMaxRelDiff.toExponential(1)} and ${v.featuresMaxRelDiff.toExponential(1)} of dfer's (relative to their largest magnitude)`
    : `not verified: ${v.reason}`;
  const wrote =
    r.format === 'onnx'
      ? [`wrote ${r.out} (${mib(r.bytes)})`]
      : [
          `wrote ${r.out}/ (${mib(r.bytes)}): model.json, ${r.files.filter((f) => f.endsWith('.bin')).length} weight shard(s), index.html and the TensorFlow.js runtime`,
          `try it: python3 -m http.server -d ${r.out} 8000, then open http://localhost:8000/`,
        ];
  return {
    json: r,
    text: [
      `exported ${r.checkpoint} as ${what}: ${r.nodes} nodes, ${r.parameters.toLocaleString('en-US')} parameters`,
      `input ${r.input.name} ${r.input.shape} float32 in [0, 1]; outputs ${r.outputs.join(', ')}; classes ${r.classes.join(', ')}`,
      verified,
      ...wrote,
    ],
  };
}
