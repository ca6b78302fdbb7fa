// Figures of a run as SVG text (pure functions of the numbers), and their PNG renderings: the confusion matrix as a
// heat map and training curves (loss parts, validation UAR/WAR, learning rate) as line charts. The SVG is plain
// SVG 1.1 with generic fonts, so that librsvg (through sharp), browsers and papers' LaTeX pipelines all draw it alike.
import { GRID, heatColour, heatTextIsLight, INK, MUTED, PALETTE, r1, svgDoc, text, textWidth } from './svg.js';

// ---------------------------------------------------------------------------------------------------------------
// Confusion matrix

export interface ConfusionSvgOptions {
  title?: string;
  /** Shade cells by row-normalised % (default true); false shades by count relative to the largest cell. */
  normalise?: boolean;
}

/**
 * The confusion matrix (rows: true class, columns: predicted class) as a heat map: each cell shows its count and its
 * share of the row (the recall on the diagonal), shaded by that share; the clips of each true class at the right.
 */
export function confusionSvg(confusion: number[][], classes: string[], opts: ConfusionSvgOptions = {}): string {
  const n = classes.length;
  if (confusion.length !== n || confusion.some((row) => row.length !== n)) {
    throw new Error(`confusionSvg: the matrix must be ${n} x ${n} for ${n} classes`);
  }
  const normalise = opts.normalise ?? true;
  const rowSums = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const maxCell = Math.max(1, ...confusion.flat());

  const cell = Math.max(36, Math.min(84, Math.floor(620 / Math.max(1, n))));
  const labelSize = cell >= 60 ? 13 : 11;
  const longest = Math.max(...classes.map((c) => textWidth(c, labelSize)), 10);
  // Column labels horizontal when they fit their cell, else rotated.
  const rotate = longest > cell - 6;
  const colLabelH = rotate ? Math.min(120, longest * 0.75 + 12) : 22;
  const titleH = opts.title ? 34 : 10;
  const left = 36 + Math.min(150, longest + 14); // axis title + row labels
  const top = titleH + 22 + colLabelH; // "predicted" + column labels
  const gridW = n * cell;
  const right = Math.max(64, rotate ? longest * 0.71 - cell / 2 + 12 : 0); // row totals; the last rotated label
  const width = Math.ceil(left + gridW + right);
  const height = Math.ceil(top + gridW + 46);

  const body: string[] = [];
  if (opts.title)
    body.push(
      text(width / 2, 24, opts.title, { 'text-anchor': 'middle', 'font-size': 16, 'font-weight': 'bold', fill: INK }),
    );
  body.push(
    text(left + gridW / 2, titleH + 14, 'predicted', { 'text-anchor': 'middle', 'font-size': 13, fill: MUTED }),
  );
  const trueY = top + gridW / 2;
  body.push(
    text(16, trueY, 'true', {
      'text-anchor': 'middle',
      'font-size': 13,
      fill: MUTED,
      transform: `rotate(-90 16 ${r1(trueY)})`,
    }),
  );

  classes.forEach((c, j) => {
    const x = left + j * cell + cell / 2;
    if (rotate) {
      const y = top - 6;
      body.push(
        text(x, y, c, {
          'text-anchor': 'start',
          'font-size': labelSize,
          fill: INK,
          transform: `rotate(-45 ${r1(x)} ${r1(y)})`,
        }),
      );
    } else {
      body.push(text(x, top - 7, c, { 'text-anchor': 'middle', 'font-size': labelSize, fill: INK }));
    }
  });
  body.push(text(left + gridW + 8, top - 7, 'clips', { 'text-anchor': 'start', 'font-size': 11, fill: MUTED }));

  const countSize = cell >= 60 ? 15 : cell >= 46 ? 12 : 10;
  const pctSize = cell >= 60 ? 11 : 9;
  for (let i = 0; i < n; i++) {
    const y = top + i * cell;
    body.push(
      text(left - 8, y + cell / 2 + 4, classes[i], { 'text-anchor': 'end', 'font-size': labelSize, fill: INK }),
    );
    for (let j = 0; j < n; j++) {
      const x = left + j * cell;
      const count = confusion[i][j];
      const share = rowSums[i] > 0 ? count / rowSums[i] : 0;
      const t = normalise ? share : count / maxCell;
      const fill = count > 0 ? heatColour(t) : '#ffffff';
      const ink = heatTextIsLight(t) ? '#ffffff' : INK;
      body.push(
        `<rect x="${r1(x)}" y="${r1(y)}" width="${cell}" height="${cell}" fill="${fill}" stroke="#ffffff" stroke-width="1"/>`,
      );
      const showPct = cell >= 46 && count > 0;
      const cy = y + cell / 2 + (showPct ? -2 : 4);
      body.push(
        text(x + cell / 2, cy, String(count), {
          'text-anchor': 'middle',
          'font-size': countSize,
          'font-weight': i === j ? 'bold' : 'normal',
          fill: count > 0 ? ink : '#aaaaaa',
        }),
      );
      if (showPct)
        body.push(
          text(x + cell / 2, cy + pctSize + 3, `${(100 * share).toFixed(1)}%`, {
            'text-anchor': 'middle',
            'font-size': pctSize,
            fill: ink,
          }),
        );
    }
    body.push(
      text(left + gridW + 8, y + cell / 2 + 4, String(rowSums[i]), {
        'text-anchor': 'start',
        'font-size': 11,
        fill: MUTED,
      }),
    );
  }
  body.push(
    `<rect x="${r1(left)}" y="${r1(top)}" width="${gridW}" height="${gridW}" fill="none" stroke="#bbbbbb" stroke-width="1"/>`,
  );
  const note = normalise
    ? 'shading and %: share of the true class (row); diagonal % = recall'
    : 'shading: count; %: share of the true class (row)';
  body.push(text(left + gridW / 2, top + gridW + 28, note, { 'text-anchor': 'middle', 'font-size': 11, fill: MUTED }));
  return svgDoc(width, height, body);
}

/**
 * Figures placed side by side in a grid of `columns` (each an SVG document of this module, nested as it is), under a
 * title: the per-setting confusion matrices of an ablation.
 */
export function sideBySideSvg(
  figures: readonly string[],
  title: string,
  columns = Math.ceil(Math.sqrt(figures.length)),
): string {
  const size = (svg: string) => {
    const m = /<svg[^>]* width="(\d+(?:\.\d+)?)" height="(\d+(?:\.\d+)?)"/.exec(svg);
    if (!m) throw new Error('sideBySideSvg: a figure without width and height');
    return { w: Number(m[1]), h: Number(m[2]) };
  };
  const sizes = figures.map(size);
  const cols = Math.max(1, Math.min(columns, figures.length));
  const colW = Array.from({ length: cols }, (_, c) =>
    Math.max(0, ...sizes.filter((_, i) => i % cols === c).map((z) => z.w)),
  );
  const rows = Math.ceil(figures.length / cols);
  const rowH = Array.from({ length: rows }, (_, r) =>
    Math.max(0, ...sizes.slice(r * cols, (r + 1) * cols).map((z) => z.h)),
  );
  const titleH = 40;
  const width = Math.ceil(colW.reduce((a, b) => a + b, 0));
  const height = Math.ceil(titleH + rowH.reduce((a, b) => a + b, 0));
  const body = [
    text(width / 2, 26, title, { 'text-anchor': 'middle', 'font-size': 17, 'font-weight': 'bold', fill: INK }),
  ];
  figures.forEach((svg, i) => {
    const x = colW.slice(0, i % cols).reduce((a, b) => a + b, 0);
    const y = titleH + rowH.slice(0, Math.floor(i / cols)).reduce((a, b) => a + b, 0);
    // A nested <svg> keeps each figure's own coordinates; only the root element's position changes.
    body.push(svg.trim().replace(/^<svg /, `<svg x="${r1(x)}" y="${r1(y)}" `));
  });
  return svgDoc(width, height, body);
}

// ---------------------------------------------------------------------------------------------------------------
// Line charts

export interface CurveSeries {
  name: string;
  points: [number, number][];
  /** The right axis has its own scale (the learning rate beside losses); drawn dashed. */
  axis?: 'left' | 'right';
}

export interface CurvesOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Label of the right axis; default: the names of the series on it. */
  yLabelRight?: string;
  width?: number;
  height?: number;
  /** Points per series above which a series is reduced (min/max per x bucket); default 800. */
  maxPoints?: number;
}

/**
 * About `count` round tick values (1, 2, 2.5 or 5 x 10^k steps) covering [lo, hi]; `integer` keeps whole-number
 * steps (epochs, steps).
 */
export function niceTicks(lo: number, hi: number, count = 5, integer = false): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) return [lo];
  const step = tickStep(lo, hi, count, integer);
  const ticks: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  for (let k = first; k * step <= hi + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

function tickStep(lo: number, hi: number, count: number, integer: boolean): number {
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw * (1 - 1e-9)) ?? 10 * mag;
  if (!integer) return step;
  if (step <= 1) return 1;
  return step === 2.5 ? 5 : step; // the one non-integer step above 1
}

/** A domain that starts and ends on round values (tick positions) and is never empty. */
function niceDomain(lo: number, hi: number, integer = false): [number, number] {
  if (hi === lo) {
    const pad = integer ? 1 : lo === 0 ? 1 : Math.abs(lo) * 0.1;
    [lo, hi] = [lo - pad, hi + pad];
    if (integer) return [lo, hi];
  }
  const step = tickStep(lo, hi, 5, integer);
  return [Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step];
}

/** Tick label: as few decimals as the tick step needs; exponent notation for very small or large values. */
export function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  const stepExp = Math.floor(Math.log10(step) + 1e-9);
  const extra = Math.abs(step / 10 ** stepExp - 2.5) < 1e-6 ? 1 : 0; // 2.5-steps need one more digit
  if (a < 1e-3 || a >= 1e6) {
    const digits = Math.max(0, Math.min(4, Math.floor(Math.log10(a) + 1e-9) - stepExp + extra));
    return v.toExponential(digits).replace('e+', 'e');
  }
  return v.toFixed(Math.max(0, Math.min(8, -stepExp + extra)));
}

/**
 * At most about maxPoints points: the x range is cut into maxPoints/2 buckets and each keeps its lowest and highest
 * point (in x order), so spikes survive. Non-finite points are dropped first.
 */
export function downsample(points: [number, number][], maxPoints: number): [number, number][] {
  const pts = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (pts.length <= maxPoints) return pts;
  pts.sort((a, b) => a[0] - b[0]);
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  const x0 = pts[0][0];
  const span = pts[pts.length - 1][0] - x0 || 1;
  const out: [number, number][] = [];
  let b = -1;
  let lo: [number, number] | undefined;
  let hi: [number, number] | undefined;
  const flush = () => {
    if (!lo || !hi) return;
    if (lo === hi) out.push(lo);
    else if (lo[0] <= hi[0]) out.push(lo, hi);
    else out.push(hi, lo);
  };
  for (const p of pts) {
    const k = Math.min(buckets - 1, Math.floor(((p[0] - x0) / span) * buckets));
    if (k !== b) {
      flush();
      b = k;
      lo = hi = p;
    } else {
      if (p[1] < lo![1]) lo = p;
      if (p[1] > hi![1]) hi = p;
    }
  }
  flush();
  const last = pts[pts.length - 1];
  if (out[out.length - 1] !== last) out.push(last);
  return out;
}

/** A line chart of one or more series against a shared x axis, with a legend, grid, ticks and an optional right axis. */
export function curvesSvg(series: CurveSeries[], opts: CurvesOptions): string {
  const width = opts.width ?? 800;
  const height = opts.height ?? 440;
  const maxPoints = opts.maxPoints ?? 800;
  const data = series.map((s, i) => ({
    ...s,
    axis: s.axis ?? 'left',
    colour: PALETTE[i % PALETTE.length],
    pts: downsample(s.points, maxPoints),
  }));
  const hasRight = data.some((s) => s.axis === 'right' && s.pts.length > 0);

  // Legend rows laid out to the width.
  const legendItems = data.map((s) => ({
    s,
    label: s.axis === 'right' && hasRight ? `${s.name} (right axis)` : s.name,
  }));
  const rows: (typeof legendItems)[] = [[]];
  let used = 0;
  const legendW = width - 80;
  for (const it of legendItems) {
    const w = 34 + textWidth(it.label, 12) + 18;
    if (used + w > legendW && rows[rows.length - 1].length) {
      rows.push([]);
      used = 0;
    }
    rows[rows.length - 1].push(it);
    used += w;
  }
  const legendH = legendItems.length ? rows.length * 18 + 6 : 0;
  const margin = { top: 36 + legendH + 8, right: hasRight ? 76 : 24, bottom: 52, left: 76 };
  const pw = width - margin.left - margin.right;
  const ph = height - margin.top - margin.bottom;

  const body: string[] = [];
  body.push(
    text(width / 2, 24, opts.title, { 'text-anchor': 'middle', 'font-size': 16, 'font-weight': 'bold', fill: INK }),
  );
  rows.forEach((row, ri) => {
    const rowW = row.reduce((a, it) => a + 34 + textWidth(it.label, 12) + 18, 0) - 18;
    let x = (width - rowW) / 2;
    const y = 36 + ri * 18 + 8;
    for (const it of row) {
      body.push(
        `<line x1="${r1(x)}" y1="${r1(y)}" x2="${r1(x + 26)}" y2="${r1(y)}" stroke="${it.s.colour}" stroke-width="2.5"${it.s.axis === 'right' ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
      body.push(text(x + 32, y + 4, it.label, { 'font-size': 12, fill: INK }));
      x += 34 + textWidth(it.label, 12) + 18;
    }
  });

  const all = data.flatMap((s) => s.pts);
  if (all.length === 0) {
    body.push(
      text(width / 2, margin.top + ph / 2, 'no data', { 'text-anchor': 'middle', 'font-size': 14, fill: MUTED }),
    );
    return svgDoc(width, height, body);
  }
  const minMax = (vals: number[]): [number, number] =>
    vals.reduce<[number, number]>((a, v) => [Math.min(a[0], v), Math.max(a[1], v)], [Infinity, -Infinity]);
  const integerX = all.every((p) => Number.isInteger(p[0]));
  const [xLo, xHi] = niceDomain(...minMax(all.map((p) => p[0])), integerX);
  const domain = (axis: 'left' | 'right'): [number, number] | undefined => {
    const ys = data.filter((s) => s.axis === axis).flatMap((s) => s.pts.map((p) => p[1]));
    return ys.length ? niceDomain(...minMax(ys)) : undefined;
  };
  const yLeft = domain('left');
  const yRight = hasRight ? domain('right') : undefined;
  const sx = (x: number) => margin.left + ((x - xLo) / (xHi - xLo)) * pw;
  const sy = (d: [number, number]) => (y: number) => margin.top + ph - ((y - d[0]) / (d[1] - d[0])) * ph;

  // Grid and y ticks (left axis, or the right one if it is alone).
  const gridDomain = yLeft ?? yRight!;
  const yTicks = niceTicks(gridDomain[0], gridDomain[1], 6);
  const yStep = yTicks.length > 1 ? yTicks[1] - yTicks[0] : Math.abs(gridDomain[1] - gridDomain[0]) || 1;
  for (const t of yTicks) {
    const y = sy(gridDomain)(t);
    body.push(
      `<line x1="${margin.left}" y1="${r1(y)}" x2="${margin.left + pw}" y2="${r1(y)}" stroke="${GRID}" stroke-width="1"/>`,
    );
    const side = yLeft ? margin.left - 8 : margin.left + pw + 8;
    body.push(
      text(side, y + 4, formatTick(t, yStep), { 'text-anchor': yLeft ? 'end' : 'start', 'font-size': 11, fill: MUTED }),
    );
  }
  if (yLeft && yRight) {
    const rt = niceTicks(yRight[0], yRight[1], 6);
    const rStep = rt.length > 1 ? rt[1] - rt[0] : Math.abs(yRight[1] - yRight[0]) || 1;
    for (const t of rt) {
      const y = sy(yRight)(t);
      body.push(
        `<line x1="${margin.left + pw}" y1="${r1(y)}" x2="${margin.left + pw + 5}" y2="${r1(y)}" stroke="${MUTED}" stroke-width="1"/>`,
      );
      body.push(text(margin.left + pw + 8, y + 4, formatTick(t, rStep), { 'font-size': 11, fill: MUTED }));
    }
  }
  const xTicks = niceTicks(xLo, xHi, Math.max(2, Math.min(10, Math.floor(pw / 80))), integerX);
  const xStep = xTicks.length > 1 ? xTicks[1] - xTicks[0] : 1;
  for (const t of xTicks) {
    const x = sx(t);
    body.push(
      `<line x1="${r1(x)}" y1="${margin.top + ph}" x2="${r1(x)}" y2="${margin.top + ph + 5}" stroke="${MUTED}" stroke-width="1"/>`,
    );
    body.push(
      text(x, margin.top + ph + 19, formatTick(t, xStep), { 'text-anchor': 'middle', 'font-size': 11, fill: MUTED }),
    );
  }
  // Axes.
  body.push(
    `<line x1="${margin.left}" y1="${margin.top + ph}" x2="${margin.left + pw}" y2="${margin.top + ph}" stroke="${MUTED}" stroke-width="1"/>`,
  );
  body.push(
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + ph}" stroke="${MUTED}" stroke-width="1"/>`,
  );
  if (yRight)
    body.push(
      `<line x1="${margin.left + pw}" y1="${margin.top}" x2="${margin.left + pw}" y2="${margin.top + ph}" stroke="${MUTED}" stroke-width="1"/>`,
    );
  body.push(
    text(margin.left + pw / 2, height - 12, opts.xLabel, { 'text-anchor': 'middle', 'font-size': 13, fill: INK }),
  );
  const ly = margin.top + ph / 2;
  body.push(
    text(18, ly, yLeft ? opts.yLabel : (opts.yLabelRight ?? opts.yLabel), {
      'text-anchor': 'middle',
      'font-size': 13,
      fill: INK,
      transform: `rotate(-90 18 ${r1(ly)})`,
    }),
  );
  if (yLeft && yRight) {
    const label =
      opts.yLabelRight ??
      data
        .filter((s) => s.axis === 'right')
        .map((s) => s.name)
        .join(', ');
    body.push(
      text(width - 14, ly, label, {
        'text-anchor': 'middle',
        'font-size': 13,
        fill: INK,
        transform: `rotate(90 ${width - 14} ${r1(ly)})`,
      }),
    );
  }

  // Series, clipped to the plot area.
  body.push(
    `<clipPath id="plot"><rect x="${margin.left}" y="${margin.top - 2}" width="${pw}" height="${ph + 4}"/></clipPath>`,
  );
  for (const s of data) {
    if (!s.pts.length) continue;
    const d = s.axis === 'right' && yRight ? yRight : (yLeft ?? yRight!);
    const y = sy(d);
    const dash = s.axis === 'right' && yLeft ? ' stroke-dasharray="6 4"' : '';
    if (s.pts.length > 1) {
      const path = s.pts.map((p, i) => `${i ? 'L' : 'M'}${r1(sx(p[0]))},${r1(y(p[1]))}`).join(' ');
      body.push(
        `<path d="${path}" fill="none" stroke="${s.colour}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"${dash} clip-path="url(#plot)"/>`,
      );
    }
    if (s.pts.length <= 40) {
      for (const p of s.pts)
        body.push(
          `<circle cx="${r1(sx(p[0]))}" cy="${r1(y(p[1]))}" r="3.5" fill="${s.colour}" stroke="#ffffff" stroke-width="1"/>`,
        );
    }
  }
  return svgDoc(width, height, body);
}

/**
 * An expression timeline: each class's probability (%) at the middle of each window, over time, with a strip of the
 * aligned face crops (PNG bytes, taken at `time` seconds) under it, so a reader sees what the model saw when.
 */
export function timelineSvg(
  title: string,
  classes: string[],
  windows: { start: number; end: number; probabilities: number[] }[],
  thumbnails: { time: number; png: Buffer }[],
): string {
  const width = 900;
  const plotH = 420;
  const series: CurveSeries[] = classes.map((c, k) => ({
    name: c,
    points: windows.map((w) => [(w.start + w.end) / 2, 100 * w.probabilities[k]] as [number, number]),
  }));
  const plot = curvesSvg(series, { title, xLabel: 'time (s)', yLabel: 'probability (%)', width, height: plotH });
  const thumb = thumbnails.length ? Math.min(96, Math.floor((width - 20) / thumbnails.length) - 4) : 0;
  const stripH = thumbnails.length ? thumb + 28 : 0;
  const body: string[] = [plot.replace(/^<svg [^>]*>/, `<svg x="0" y="0" width="${width}" height="${plotH}">`)];
  thumbnails.forEach((t, i) => {
    const x = 10 + i * (thumb + 4);
    body.push(
      `<image x="${x}" y="${plotH + 4}" width="${thumb}" height="${thumb}" href="data:image/png;base64,${t.png.toString('base64')}"/>`,
    );
    body.push(
      text(x + thumb / 2, plotH + thumb + 20, `${t.time.toFixed(1)} s`, {
        'text-anchor': 'middle',
        'font-size': 11,
        fill: MUTED,
      }),
    );
  });
  return svgDoc(width, plotH + stripH, body);
}

export interface IntensityPanel {
  title: string;
  /** One per setting: a value (0..1) and its spread (sd over runs) per intensity bin; NaN where there is none. */
  series: { name: string; values: number[]; spread: number[] }[];
}

/**
 * Recall (or any share) by intensity bin, one line per setting with +-1 sd bars, one panel beside the other: the
 * figure of `dfer ablate` on data with intensities (recall, and the share predicted neutral).
 */
export function intensitySvg(bins: { lo: number; hi: number }[], panels: IntensityPanel[], title: string): string {
  const pw = 380;
  const ph = 260;
  const margin = { top: 64, left: 60, gap: 70, bottom: 56 };
  const width = Math.max(760, margin.left + panels.length * pw + (panels.length - 1) * margin.gap + 24);
  const names = panels[0]?.series.map((s) => s.name) ?? [];
  // Legend entries in columns wide enough for the longest name.
  const colW = Math.max(...names.map((n) => textWidth(n, 12)), 60) + 48;
  const perRow = Math.max(1, Math.floor((width - 80) / colW));
  const legendRows = Math.ceil(names.length / perRow);
  const top = margin.top + legendRows * 18;
  const height = top + ph + margin.bottom;
  const body: string[] = [
    text(width / 2, 24, title, { 'text-anchor': 'middle', 'font-size': 16, 'font-weight': 'bold', fill: INK }),
  ];
  names.forEach((n, i) => {
    const x = 60 + (i % perRow) * colW;
    const y = 46 + Math.floor(i / perRow) * 18;
    body.push(
      `<line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="2.5"/>`,
    );
    body.push(text(x + 30, y + 4, n, { 'font-size': 12, fill: INK }));
  });
  panels.forEach((panel, p) => {
    const x0 = margin.left + p * (pw + margin.gap);
    const sx = (k: number) => x0 + ((k + 0.5) / bins.length) * pw;
    const sy = (v: number) => top + ph - v * ph;
    body.push(text(x0 + pw / 2, top - 8, panel.title, { 'text-anchor': 'middle', 'font-size': 13, fill: INK }));
    for (const t of [0, 0.25, 0.5, 0.75, 1]) {
      body.push(
        `<line x1="${x0}" y1="${r1(sy(t))}" x2="${x0 + pw}" y2="${r1(sy(t))}" stroke="#e6e6e6" stroke-width="1"/>`,
      );
      body.push(text(x0 - 8, sy(t) + 4, `${100 * t}%`, { 'text-anchor': 'end', 'font-size': 11, fill: MUTED }));
    }
    bins.forEach((b, k) =>
      body.push(
        text(sx(k), top + ph + 18, `${b.lo.toFixed(2)}-${b.hi.toFixed(2)}`, {
          'text-anchor': 'middle',
          'font-size': 11,
          fill: MUTED,
        }),
      ),
    );
    body.push(
      text(x0 + pw / 2, top + ph + 40, 'apex intensity', { 'text-anchor': 'middle', 'font-size': 12, fill: INK }),
    );
    body.push(`<line x1="${x0}" y1="${top + ph}" x2="${x0 + pw}" y2="${top + ph}" stroke="${MUTED}"/>`);
    panel.series.forEach((s, i) => {
      const colour = PALETTE[i % PALETTE.length];
      // Settings side by side within a bin, so their bars do not hide each other.
      const dx = (i - (panel.series.length - 1) / 2) * 6;
      const pts = s.values.map((v, k) => [sx(k) + dx, v] as const).filter(([, v]) => Number.isFinite(v));
      if (pts.length > 1)
        body.push(
          `<path d="${pts.map(([x, v], j) => `${j ? 'L' : 'M'}${r1(x)},${r1(sy(v))}`).join(' ')}" fill="none" stroke="${colour}" stroke-width="2"/>`,
        );
      s.values.forEach((v, k) => {
        if (!Number.isFinite(v)) return;
        const x = sx(k) + dx;
        const e = s.spread[k];
        if (Number.isFinite(e) && e > 0)
          body.push(
            `<line x1="${r1(x)}" y1="${r1(sy(Math.min(1, v + e)))}" x2="${r1(x)}" y2="${r1(sy(Math.max(0, v - e)))}" stroke="${colour}" stroke-width="1.5"/>`,
          );
        body.push(
          `<circle cx="${r1(x)}" cy="${r1(sy(v))}" r="3.5" fill="${colour}" stroke="#ffffff" stroke-width="1"/>`,
        );
      });
    });
  });
  return svgDoc(width, height, body);
}

// ---------------------------------------------------------------------------------------------------------------
// Files
