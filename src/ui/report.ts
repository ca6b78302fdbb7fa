// dfer report's output: the file written and what it holds (runs, grids, charts), and what was left out.
import type { ReportResult } from '../report/report.js';
import type { View } from './output.js';

const size = (bytes: number) =>
  bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${Math.max(1, Math.round(bytes / 1024))} KiB`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function reportView(r: ReportResult): View {
  const finished = r.runs.filter((x) => x.finished).length;
  const grids = r.grids.map((g) => `  grid ${g.path}: ${plural(g.settings, 'setting')}, ${plural(g.runs, 'run')}`);
  return {
    json: {
      out: r.out,
      url: r.url,
      bytes: r.bytes,
      title: r.title,
      runs: r.runs.map((x) => ({ path: x.path, label: x.label, finished: x.finished })),
      grids: r.grids,
      charts: r.charts,
      notes: r.notes,
    },
    text: [
      `wrote ${r.out} (${size(r.bytes)}): "${r.title}", ${plural(r.runs.length, 'run')} (${finished} finished)${r.grids.length ? `, ${plural(r.grids.length, 'ablation grid')}` : ''}`,
      ...grids,
      `charts: ${r.charts.join('; ')}`,
      ...r.notes.map((n) => `note: ${n}`),
      `open it in a browser (it needs no network): ${r.url}`,
    ],
  };
}
