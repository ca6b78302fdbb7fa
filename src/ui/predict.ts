import type { PredictResult } from '../model/predict.js';
import type { VideoPrediction, VideoPredictResult } from '../model/predict-video.js';
import type { View } from './output.js';
import { percent, table } from './table.js';

const TOP_K = 3;

export function predictView(r: PredictResult): View {
  const rows = r.clips.map((c, index) => {
    const top = c.probabilities
      .map((p, i) => [p, i] as const)
      .sort((a, b) => b[0] - a[0])
      .slice(0, TOP_K)
      .map(([p, i]) => `${r.classes[i]} ${percent(p)}`);
    return [index, c.label, percent(c.probabilities[c.labelIndex]), top.join(', ')];
  });
  return {
    json: {
      backend: r.backend,
      checkpoint: r.checkpoint,
      input: r.input,
      clips: r.clips.map((c, index) => ({
        index,
        logits: c.logits,
        probabilities: c.probabilities,
        label: c.label,
        features: c.features,
      })),
    },
    text: [
      `${r.input}: ${r.clips.length} clip(s), checkpoint ${r.checkpoint}, backend ${r.backend}`,
      ...table(['clip', 'label', 'p', `top ${TOP_K}`], rows),
    ],
  };
}

/** Several inputs (-i a -i b, or -i - for a list on standard input): each input's table; JSON {backend, checkpoint, inputs}. */
export function predictManyView(results: PredictResult[]): View {
  const views = results.map(predictView);
  return {
    json: {
      backend: results[0]?.backend,
      checkpoint: results[0]?.checkpoint,
      inputs: views.map((v) => {
        const { backend: _b, checkpoint: _c, ...rest } = v.json as Record<string, unknown>;
        return rest;
      }),
    },
    text: views.flatMap((v, i) => (i ? ['', ...v.text] : v.text)),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Videos: the expression timeline

const two = (v: number) => v.toFixed(2);

/** The JSON document of `dfer predict` on videos: stable keys scripts rely on. */
export function videoPredictJson(r: VideoPredictResult): Record<string, unknown> {
  return {
    backend: r.backend,
    checkpoint: r.checkpoint,
    classes: r.classes,
    sampling: { u: r.sampling.u, v: r.sampling.v },
    videos: r.videos.map((v) => ({
      path: v.path,
      fps: v.fps,
      faces: v.faces,
      windows: v.windows.map((w) => ({ start: w.start, end: w.end, label: w.label, probabilities: w.probabilities })),
      seconds: v.seconds,
      ...(v.error ? { error: v.error } : {}),
    })),
  };
}

/** ANSI colours of the classes in the terminal strip (the plots' palette, as 256-colour codes). */
const STRIP_COLOURS = [33, 166, 35, 169, 214, 75, 250, 160, 100, 140, 245];

/** One block per window, coloured by its label: the video at a glance (terminals only). */
export function timelineStrip(v: VideoPrediction, classes: string[]): string {
  return v.windows
    .map((w) => `\x1b[38;5;${STRIP_COLOURS[classes.indexOf(w.label) % STRIP_COLOURS.length]}m█\x1b[0m`)
    .join('');
}

export function videoPredictView(r: VideoPredictResult, colour: boolean): View {
  const text: string[] = [];
  for (const v of r.videos) {
    if (text.length) text.push('');
    const f = v.faces;
    const faces =
      f.checked !== undefined
        ? `; face in ${f.found} of ${f.checked} checked frames (${percent(f.coverage ?? 0)})`
        : '';
    text.push(
      `${v.path}: ${f.frames} frames at ${v.fps.toFixed(2)} fps${faces}; ${v.windows.length} window(s), U=${r.sampling.u} x V=${r.sampling.v}`,
    );
    if (v.error) {
      text.push(`  ${v.error}`);
      continue;
    }
    if (colour) {
      text.push(`  ${timelineStrip(v, r.classes)}`);
      text.push(
        `  ${r.classes.map((c, i) => `\x1b[38;5;${STRIP_COLOURS[i % STRIP_COLOURS.length]}m█\x1b[0m ${c}`).join('  ')}`,
      );
    }
    const rows = v.windows.map((w) => {
      const top = w.probabilities
        .map((p, i) => [p, i] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, TOP_K)
        .map(([p, i]) => `${r.classes[i]} ${percent(p)}`);
      return [`${two(w.start)}-${two(w.end)}`, w.label, percent(Math.max(...w.probabilities)), top.join(', ')];
    });
    text.push(...table(['time (s)', 'label', 'p', `top ${TOP_K}`], rows, '  '));
    const t = v.seconds;
    text.push(
      `  seconds: decode ${t.decode.toFixed(1)}, detect ${t.detect.toFixed(1)}, align ${t.align.toFixed(1)}, network ${t.network.toFixed(1)}`,
    );
  }
  return { json: videoPredictJson(r), text };
}

/** The timeline as CSV: one row per window, the probability of every class. */
export function videoPredictCsv(r: VideoPredictResult): string {
  const header = ['video', 'start', 'end', 'label', ...r.classes.map((c) => `p_${c}`)];
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const rows = r.videos.flatMap((v) =>
    v.windows.map((w) =>
      [quote(v.path), w.start.toFixed(3), w.end.toFixed(3), w.label, ...w.probabilities.map((p) => p.toFixed(6))].join(
        ',',
      ),
    ),
  );
  return [header.join(','), ...rows].join('\n') + '\n';
}
