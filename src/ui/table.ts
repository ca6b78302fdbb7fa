// Plain-text tables: columns padded to their widest cell, numbers right-aligned.

export type Cell = string | number;

const isNumeric = (c: Cell) => typeof c === 'number' || /^-?[\d.]+%?$/.test(c);

export function table(header: string[], rows: Cell[][], indent = ''): string[] {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const right = header.map((_, i) => rows.length > 0 && rows.every((r) => isNumeric(r[i])));
  return cells.map((r) =>
    (
      indent +
      r.map((c, i) => (right[i] ? c.padStart(widths[i]) : i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')
    ).trimEnd(),
  );
}

export const percent = (p: number) => `${(100 * p).toFixed(1)}%`;
