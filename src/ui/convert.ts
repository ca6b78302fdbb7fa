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
