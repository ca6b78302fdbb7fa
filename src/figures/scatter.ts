// Scatter plots of 2-D maps (t-SNE of clip features, the paper's Fig. 4) as SVG text: a grid of square panels, one
// row per colouring (class, then intensity), one column per model; each row ends with its legend (classes) or its
// colour bar (intensity). Axes of a t-SNE map carry no meaning, so panels have a frame and no ticks. Pure functions of
// the numbers; writeSvgAndPng (plots.ts) renders the PNG.
import { hexRgb, INK, MUTED, PALETTE, r1, rampColour, svgDoc, text } from './svg.js';

const MISSING = '#bbbbbb';

// matplotlib's viridis at 9 stops: perceptually uniform, colour-blind safe, dark (low) to yellow (high).
const VIRIDIS = ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'];

/** The viridis colour of t in [0, 1], as #rrggbb. */
export const viridis = (t: number): string => rampColour(VIRIDIS, t);

/** The colour of class k (the plots' colour-blind-safe palette; beyond 7 classes, lighter and darker variants). */
export function classColour(k: number): string {
  const base = PALETTE[k % PALETTE.length];
  const round = Math.floor(k / PALETTE.length);
  if (round === 0) return base;
  const f = round % 2 === 1 ? 0.45 : -0.35; // towards white, then towards black
  return (
    '#' +
    hexRgb(base)
      .map((v) =>
        Math.round(f > 0 ? v + (255 - v) * f : v * (1 + f))
          .toString(16)
          .padStart(2, '0'),
      )
      .join('')
  );
}

export interface ScatterPoint {
  x: number;
  y: number;
  colour: string;
}

export interface ScatterPanel {
  title: string;
  /** A second, smaller line under the title (kNN accuracy, KL). */
  subtitle?: string;
  points: ScatterPoint[];
}

export interface ScatterRow {
  panels: ScatterPanel[];
  /** Categorical legend (classes) at the right of the row. */
  legend?: { label: string; colour: string }[];
  /** Continuous colour bar at the right of the row. */
  colourBar?: { label: string; lo: number; hi: number; colour: (t: number) => string; missing?: string };
}

export interface ScatterOptions {
  title?: string;
  /** Side of each square panel in px (default 420). */
  panelSize?: number;
  /** Point radius in px (default: from the number of points, 1.6 to 4). */
  radius?: number;
}

/** The scatter grid: rows x panels, each panel scaled to its own points (equal aspect), legends at the right. */
export function scatterSvg(rows: ScatterRow[], opts: ScatterOptions = {}): string {
  const side = opts.panelSize ?? 420;
  const cols = Math.max(1, ...rows.map((r) => r.panels.length));
  const maxPoints = Math.max(1, ...rows.flatMap((r) => r.panels.map((p) => p.points.length)));
  const radius = opts.radius ?? Math.max(1.6, Math.min(4, 4 * Math.sqrt(300 / maxPoints)));
  const legendW = Math.max(
    120,
    ...rows.map((r) =>
      r.legend
        ? 36 + Math.max(...r.legend.map((l) => l.label.length * 7.5))
        : r.colourBar
          ? 30 + r.colourBar.label.length * 7
          : 0,
    ),
  );
  const gap = 28;
  const titleH = opts.title ? 40 : 12;
  const panelTitleH = rows.some((r) => r.panels.some((p) => p.subtitle)) ? 40 : 24;
  const rowH = panelTitleH + side + gap;
  const width = Math.ceil(gap + cols * (side + gap) + legendW);
  const height = Math.ceil(titleH + rows.length * rowH);
  const body: string[] = [];
  if (opts.title)
    body.push(
      text(width / 2, 26, opts.title, { 'text-anchor': 'middle', 'font-size': 17, 'font-weight': 'bold', fill: INK }),
    );

  rows.forEach((row, ri) => {
    const top = titleH + ri * rowH;
    row.panels.forEach((panel, ci) => {
      const left = gap + ci * (side + gap);
      body.push(
        text(left + side / 2, top + 15, panel.title, {
          'text-anchor': 'middle',
          'font-size': 14,
          'font-weight': 'bold',
          fill: INK,
        }),
      );
      if (panel.subtitle)
        body.push(
          text(left + side / 2, top + 32, panel.subtitle, { 'text-anchor': 'middle', 'font-size': 12, fill: MUTED }),
        );
      const py = top + panelTitleH;
      body.push(
        `<rect x="${r1(left)}" y="${r1(py)}" width="${side}" height="${side}" fill="#ffffff" stroke="#bbbbbb" stroke-width="1"/>`,
      );
      const finite = panel.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
      if (!finite.length) {
        body.push(
          text(left + side / 2, py + side / 2, 'no points', { 'text-anchor': 'middle', 'font-size': 13, fill: MUTED }),
        );
        return;
      }
      let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
      for (const p of finite) {
        x0 = Math.min(x0, p.x);
        x1 = Math.max(x1, p.x);
        y0 = Math.min(y0, p.y);
        y1 = Math.max(y1, p.y);
      }
      const span = Math.max(x1 - x0, y1 - y0) || 1;
      const inner = side - 4 * radius - 8;
      const scale = inner / span;
      const ox = left + (side - (x1 - x0) * scale) / 2;
      const oy = py + (side - (y1 - y0) * scale) / 2;
      // One <g> per colour: shorter files, and a reader can toggle a class in an editor.
      const byColour = new Map<string, string[]>();
      for (const p of finite) {
        const cx = r1(ox + (p.x - x0) * scale);
        const cy = r1(oy + (y1 - p.y) * scale); // y up
        const list = byColour.get(p.colour) ?? [];
        list.push(`<circle cx="${cx}" cy="${cy}" r="${radius}"/>`);
        byColour.set(p.colour, list);
      }
      for (const [colour, circles] of byColour) {
        body.push(
          `<g fill="${colour}" fill-opacity="0.75" stroke="#ffffff" stroke-width="${r1(radius / 5)}" stroke-opacity="0.6">`,
          ...circles,
          '</g>',
        );
      }
    });

    // Legend or colour bar at the right of the row.
    const lx = gap + cols * (side + gap);
    const ly = top + panelTitleH;
    if (row.legend) {
      row.legend.forEach((item, k) => {
        const y = ly + 12 + k * 22;
        body.push(`<circle cx="${r1(lx + 8)}" cy="${r1(y)}" r="6" fill="${item.colour}"/>`);
        body.push(text(lx + 22, y + 4.5, item.label, { 'font-size': 13, fill: INK }));
      });
    } else if (row.colourBar) {
      const bar = row.colourBar;
      body.push(text(lx, ly + 10, bar.label, { 'font-size': 13, fill: INK }));
      const barTop = ly + 24;
      const barH = Math.min(220, side - 60);
      const steps = 32;
      for (let s = 0; s < steps; s++) {
        const t = 1 - (s + 0.5) / steps;
        body.push(
          `<rect x="${r1(lx)}" y="${r1(barTop + (s * barH) / steps)}" width="16" height="${r1(barH / steps + 0.5)}" fill="${bar.colour(t)}"/>`,
        );
      }
      body.push(
        `<rect x="${r1(lx)}" y="${r1(barTop)}" width="16" height="${r1(barH)}" fill="none" stroke="#bbbbbb" stroke-width="1"/>`,
      );
      const fmt = (v: number) => (Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(2));
      body.push(text(lx + 22, barTop + 5, fmt(bar.hi), { 'font-size': 12, fill: MUTED }));
      body.push(text(lx + 22, barTop + barH + 4, fmt(bar.lo), { 'font-size': 12, fill: MUTED }));
      if (bar.missing) {
        body.push(`<circle cx="${r1(lx + 8)}" cy="${r1(barTop + barH + 26)}" r="6" fill="${MISSING}"/>`);
        body.push(text(lx + 22, barTop + barH + 30, bar.missing, { 'font-size': 12, fill: MUTED }));
      }
    }
  });
  return svgDoc(width, height, body);
}

/** The grey of points without a value (clips whose intensity is unknown). */
export const MISSING_COLOUR = MISSING;
