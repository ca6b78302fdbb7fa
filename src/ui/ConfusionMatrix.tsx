// The confusion matrix and per-class recall as Ink components: counts on cells shaded by the row-normalised share
// (the same colour-blind-safe blue scale as confusion.svg), and one recall bar per class.
import { Box, Text } from 'ink';
import { heatColour, heatTextIsLight } from '../figures/svg.js';
import { abbreviateClasses } from './metrics-text.js';
import { Bar } from './progress.js';

const LABEL = 4; // "Hap "

/** Cells fit the largest count and every column name, with a space between columns. */
const cellWidth = (confusion: number[][], abbr: readonly string[], percent = false) =>
  Math.max(percent ? 6 : 4, String(Math.max(0, ...confusion.flat())).length + 2, ...abbr.map((a) => a.length + 1));

/** Columns the matrix needs, so that a caller can leave it out of a narrow terminal. */
export function confusionWidth(confusion: number[][], classes: readonly string[], percent = false): number {
  const abbr = abbreviateClasses(classes);
  return Math.max(LABEL, ...abbr.map((a) => a.length + 1)) + classes.length * cellWidth(confusion, abbr, percent);
}

/** Terminal shading: empty cells stay unshaded; others start a little above white, so they show on dark terminals. */
export function cellColours(share: number, count: number): { backgroundColor?: string; color?: string } {
  if (count === 0) return {};
  const t = 0.12 + 0.88 * share;
  return { backgroundColor: heatColour(t), color: heatTextIsLight(t) ? '#ffffff' : '#000000' };
}

/** Counts of each (true, predicted) pair, shaded by the share of the true class; the caption is the caller's. */
/** Counts, or (`percent`) each cell's share of its row, the true class. */
export function ConfusionMatrix({
  confusion,
  classes,
  percent = false,
}: {
  confusion: number[][];
  classes: readonly string[];
  percent?: boolean;
}) {
  const abbr = abbreviateClasses(classes);
  const label = Math.max(LABEL, ...abbr.map((a) => a.length + 1));
  const w = cellWidth(confusion, abbr, percent);
  const sums = confusion.map((r) => r.reduce((a, b) => a + b, 0));
  return (
    <Box flexDirection="column">
      <Text dimColor>
        {''.padEnd(label)}
        {abbr.map((a) => (a + ' ').padStart(w)).join('')}
      </Text>
      {confusion.map((row, i) => (
        <Text key={i}>
          <Text bold>{abbr[i].padEnd(label)}</Text>
          {row.map((c, j) => {
            const share = sums[i] > 0 ? c / sums[i] : 0;
            const shown = percent ? `${Math.round(100 * share)}%` : String(c);
            const cell = (c === 0 ? '·' : shown).padStart(w - 1) + ' ';
            return c === 0 ? (
              <Text key={j} dimColor>
                {cell}
              </Text>
            ) : (
              <Text key={j} {...cellColours(share, c)} bold={i === j}>
                {cell}
              </Text>
            );
          })}
        </Text>
      ))}
    </Box>
  );
}

/** Recall of each class as a bar and a percentage. */
export function RecallBars({
  recall,
  classes,
  width = 12,
}: {
  recall: readonly number[];
  classes: readonly string[];
  width?: number;
}) {
  const abbr = abbreviateClasses(classes);
  const label = Math.max(LABEL, ...abbr.map((a) => a.length + 1));
  return (
    <Box flexDirection="column">
      <Text dimColor>recall</Text>
      {recall.map((r, i) => (
        <Text key={i}>
          <Text bold>{abbr[i].padEnd(label)}</Text>
          <Bar done={Math.round(r * 1000)} total={1000} width={width} />
          <Text> {(100 * r).toFixed(1).padStart(5)}%</Text>
        </Text>
      ))}
    </Box>
  );
}
