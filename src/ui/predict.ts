import type { PredictResult } from '../model/predict.js';
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
      clips: r.clips.map((c, index) => ({ index, logits: c.logits, probabilities: c.probabilities, label: c.label, features: c.features })),
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
