import type { DataCheck, DoctorReport } from '../doctor.js';
import type { View } from './output.js';
import { table } from './table.js';

export function doctorView(r: DoctorReport): View {
  const text = [
    `dfer ${r.dfer}  Node ${r.node} (${r.platform})  tfjs ${r.tfjs}`,
    '',
    'Backends, in the order --backend auto tries them:',
    ...table(
      ['backend', 'package', 'available', 'detail'],
      r.backends.map((b) => [b.name, b.source, b.available ? 'yes' : 'no', b.detail]),
      '  ',
    ),
    `  auto picks: ${r.auto ?? 'nothing (no backend loads)'}`,
    `  --backend ${r.check.choice}: ${r.check.ok ? `${r.check.name}, ${r.check.detail}` : `FAILED: ${r.check.detail}`}`,
    '',
    ...webgpuLines(r),
    '',
    `ffmpeg: ${r.ffmpeg.found ? `${r.ffmpeg.found.path} (from ${r.ffmpeg.found.source})` : 'not found (needed only for video input)'}`,
    ...table(
      ['looked at', 'path', 'result'],
      r.ffmpeg.tried.map((t) => [t.source, t.path ?? '-', t.detail]),
      '  ',
    ),
  ];
  if (r.hints.length) text.push('', 'Hints:', ...r.hints.map((h) => `  - ${h}`));
  return { json: r, text };
}

function webgpuLines(r: DoctorReport): string[] {
  const a = r.webgpu.adapter;
  if (!a) return [`WebGPU adapter: none (${r.webgpu.detail})`];
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
  return [
    `WebGPU adapter: ${a.description || a.device} (${a.kind === 'gpu' ? 'hardware GPU' : 'CPU emulation: correct, slow'})`,
    ...table(
      ['field', 'value'],
      [
        ['vendor', a.vendor],
        ['architecture', a.architecture || '-'],
        ['device', a.device || '-'],
        ['largest tensor (maxStorageBufferBindingSize)', mib(a.limits.maxStorageBufferBindingSize)],
        ['maxBufferSize', mib(a.limits.maxBufferSize)],
        [
          'workgroup memory / invocations',
          `${a.limits.maxComputeWorkgroupStorageSize} B / ${a.limits.maxComputeInvocationsPerWorkgroup}`,
        ],
      ],
      '  ',
    ),
  ];
}

export function dataCheckView(c: DataCheck): View {
  const text = c.damaged.length
    ? [
        `${c.dir}: ${c.damaged.length} of ${c.clips} clips missing or damaged:`,
        ...c.damaged.map((d) => `  clip ${d.id}: ${d.file}: ${d.reason}`),
        'delete the damaged files and run the same dfer prepare again: it re-creates missing clips',
      ]
    : [`${c.dir}: all ${c.clips} clips match the manifest`];
  return { json: c, text };
}
