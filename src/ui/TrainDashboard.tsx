// The training dashboard: finished things (the run header, one line per epoch, checkpoints, the test result) printed
// once through <Static>, above a live area that redraws: progress of the run and of the epoch, the running loss and
// its parts with a trend, and the latest validation (UAR/WAR, recall bars, confusion matrix). Every component is a
// function of its props; the state is TrainState, kept by the reporter (src/ui/train.tsx).
import { Box, Static, Text, useInput } from 'ink';
import { useState } from 'react';
import { ConfusionMatrix, confusionWidth, RecallBars } from './ConfusionMatrix.js';
import { duration, loss4, lrText, pct2, SELECTED_ON_TEST } from './metrics-text.js';
import { Bar } from './progress.js';
import {
  classNames,
  runFraction,
  runningLoss,
  sparkline,
  trendValues,
  type LogItem,
  type RunStart,
  type TrainState,
} from './train-state.js';
import { logLines, protocolLine } from './train-text.js';

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

/** One finished epoch: compact below 100 columns (total loss only), with the loss parts when there is room. */
function EpochLine({ item, width }: { item: Extract<LogItem, { kind: 'epoch' }>; width: number }) {
  const e = item.epoch;
  const w = String(e.epochs).length;
  const l = e.trainLoss;
  return (
    <Text wrap="truncate-end">
      <Text bold>
        epoch {String(e.epoch).padStart(w)}/{e.epochs}
      </Text>
      {'  '}loss {loss4(l.total)}
      {width >= 100 ? (
        <Text dimColor>
          {' '}
          (ce {loss4(l.ce)} ial {loss4(l.ial)} aux {loss4(l.aux)})
        </Text>
      ) : null}
      {'  '}
      {e.val ? (
        <Text>
          {item.selectOn} UAR <Text bold>{pct2(e.val.uar)}</Text> WAR {pct2(e.val.war)}
        </Text>
      ) : (
        <Text dimColor>no validation</Text>
      )}
      {'  '}
      {e.best ? <Text color="green">★ best</Text> : <Text dimColor>best {e.bestEpoch}</Text>}
      <Text dimColor>
        {'  '}
        {duration(e.seconds)}
      </Text>
    </Text>
  );
}

function RunHeader({ run }: { run: RunStart }) {
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text bold>dfer train</Text> {run.runDir} <Text dimColor>backend {run.backend}</Text>
        {run.resumedFrom ? (
          <Text color="cyan">
            {' '}
            resumed at epoch {run.resumedFrom.epoch} step {run.resumedFrom.step}
          </Text>
        ) : null}
      </Text>
      <Text dimColor wrap="truncate-end">
        {run.epochs} epochs x {run.stepsPerEpoch} steps · clips {run.trainClips} train / {run.valClips} val /{' '}
        {run.testClips} test · {run.classes.length} classes
      </Text>
      {run.protocol ? (
        <Text dimColor wrap="wrap">
          {protocolLine(run.protocol)}
        </Text>
      ) : null}
      {run.selectOn === 'test' ? (
        <Text color="yellow">checkpoint {SELECTED_ON_TEST}</Text>
      ) : (
        <Text dimColor>checkpoint selected on the val split</Text>
      )}
    </Box>
  );
}

export function LogLine({ item, width }: { item: LogItem; width: number }) {
  switch (item.kind) {
    case 'epoch':
      return <EpochLine item={item} width={width} />;
    case 'run':
      return <RunHeader run={item.run} />;
    case 'checkpoint':
      return <Text dimColor>{logLines(item)[0]}</Text>;
    case 'test':
      return <Text bold>{logLines(item)[0]}</Text>;
    case 'notice':
      return <Text color="yellow">{item.text}</Text>;
  }
}

function Progress({ state, width }: { state: TrainState; width: number }) {
  const bar = clamp(width - 50, 10, 40);
  const frac = runFraction(state);
  const ev = state.evalProgress;
  const ew = String(state.epochs).length;
  return (
    <Box flexDirection="column">
      <Box columnGap={2} flexWrap="wrap">
        <Text bold>
          epoch {String(state.epoch).padStart(ew)}/{state.epochs}
        </Text>
        <Bar done={frac * 1000} total={1000} width={bar} />
        <Text>{String(Math.floor(100 * frac)).padStart(3)}%</Text>
        <Text dimColor>
          elapsed {duration(state.elapsed)}
          {Number.isFinite(state.etaSeconds) && state.phase !== 'done' ? `  ETA ${duration(state.etaSeconds)}` : ''}
        </Text>
      </Box>
      {ev ? (
        <Box columnGap={2} flexWrap="wrap">
          <Text>{`eval ${ev.split}`.padEnd(5 + 2 * ew + 1)}</Text>
          <Bar done={ev.done} total={ev.total} width={bar} />
          <Text>
            {ev.done}/{ev.total} clips
          </Text>
        </Box>
      ) : (
        <Box columnGap={2} flexWrap="wrap">
          <Text>{`step ${state.step}/${state.stepsPerEpoch}`.padEnd(6 + 2 * ew)}</Text>
          <Bar done={state.step} total={state.stepsPerEpoch} width={bar} />
          <Text>
            {String(state.stepsPerEpoch ? Math.floor((100 * state.step) / state.stepsPerEpoch) : 0).padStart(3)}%
          </Text>
          <Text dimColor>
            {state.clipsPerSecond.toFixed(1)} clips/s lr {lrText(state.lr)}
          </Text>
        </Box>
      )}
    </Box>
  );
}

function LossLine({ state, width, long = false }: { state: TrainState; width: number; long?: boolean }) {
  const l = runningLoss(state);
  if (!l) return null;
  // The trend always spans the whole run; `long` (key l) gives it most of the terminal's width.
  const trend = sparkline(trendValues(state.trend), long ? clamp(width - 12, 16, 200) : clamp(width - 60, 8, 32));
  return (
    <Box columnGap={2} flexWrap="wrap">
      <Text>
        loss <Text bold>{loss4(l.total)}</Text>
      </Text>
      {trend ? <Text color="cyan">{trend}</Text> : null}
      <Text dimColor>
        ce {loss4(l.ce)} ial {loss4(l.ial)} aux {loss4(l.aux)}
      </Text>
    </Box>
  );
}

function Validation({ state, width, percent = false }: { state: TrainState; width: number; percent?: boolean }) {
  const v = state.lastVal;
  if (!v) return null;
  const m = v.metrics;
  const split = state.selectOn;
  const history = state.epochsDone.filter((e) => e.val).map((e) => e.val!.uar);
  const classes = classNames(state, m.confusion.length);
  const matrixW = confusionWidth(m.confusion, classes, percent);
  const recallW = clamp(width - matrixW - 18, 8, 20);
  return (
    <Box flexDirection="column" marginTop={1}>
      <Box columnGap={2} flexWrap="wrap">
        <Text>
          after epoch {v.epoch}: {split} UAR <Text bold>{pct2(m.uar)}%</Text> WAR <Text bold>{pct2(m.war)}%</Text>
        </Text>
        {state.best ? (
          <Text color="green">
            best UAR {pct2(state.best.uar)}% (epoch {state.best.epoch})
          </Text>
        ) : null}
        {history.length > 1 ? <Text color="cyan">UAR {sparkline(history, clamp(width - 70, 6, 24))}</Text> : null}
      </Box>
      {split === 'test' ? <Text color="yellow">checkpoint {SELECTED_ON_TEST}</Text> : null}
      <Box columnGap={3} flexWrap="wrap" marginTop={1}>
        {matrixW <= width ? (
          <ConfusionMatrix confusion={m.confusion} classes={classes} percent={percent} />
        ) : (
          <Text dimColor>(confusion matrix: needs {matrixW} columns)</Text>
        )}
        <RecallBars recall={m.perClass} classes={classes} width={recallW} />
      </Box>
      <Text dimColor>confusion: rows true, columns predicted, {percent ? 'row %' : 'counts'}, shaded by row %</Text>
    </Box>
  );
}

/** How the live area is shown: the keys of an interactive dashboard change it (KeyedDashboard). */
export interface ViewOptions {
  /** Key c: the confusion matrix as row percentages instead of counts. */
  percent?: boolean;
  /** Key l: the loss trend over most of the terminal's width. */
  longLoss?: boolean;
  /** Key ?: the keys explained. */
  help?: boolean;
  /** The keys line at the bottom (interactive dashboards only). */
  keys?: boolean;
}

export const KEYS_LINE = 'keys: q stop (resumable) · c counts/% · l loss trend · ? help';
export const KEYS_HELP =
  'q: stop after this step and save a resumable checkpoint (as Ctrl-C) · c: confusion matrix as counts or row % · l: the loss trend over the whole width · ?: this help';

/** The live area alone (no Static): progress, loss, the latest validation. */
export function TrainLive({ state, width, view = {} }: { state: TrainState; width: number; view?: ViewOptions }) {
  if (state.phase === 'starting' && !state.run) return <Text dimColor>starting…</Text>;
  return (
    <Box flexDirection="column" marginTop={1}>
      <Progress state={state} width={width} />
      <LossLine state={state} width={width} long={view.longLoss} />
      <Validation state={state} width={width} percent={view.percent} />
      {view.keys ? <Text dimColor>{view.help ? KEYS_HELP : KEYS_LINE}</Text> : null}
    </Box>
  );
}

export function TrainDashboard({ state, width, view }: { state: TrainState; width: number; view?: ViewOptions }) {
  return (
    <>
      <Static items={state.log}>{(item) => <LogLine key={item.key} item={item} width={width} />}</Static>
      <TrainLive state={state} width={width} view={view} />
    </>
  );
}

/**
 * The dashboard with keys (on a terminal): q stops as Ctrl-C does (raw mode turns Ctrl-C into a key, so both raise
 * SIGINT through `onStop`, where the command's handler saves and stops), c, l and ? change the view.
 */
export function KeyedDashboard({
  state,
  width,
  onStop = () => process.kill(process.pid, 'SIGINT'),
}: {
  state: TrainState;
  width: number;
  onStop?: () => void;
}) {
  const [view, setView] = useState<ViewOptions>({ keys: true });
  useInput((input, key) => {
    if (input === 'q' || (key.ctrl && input === 'c')) onStop();
    else if (input === 'c') setView((v) => ({ ...v, percent: !v.percent }));
    else if (input === 'l') setView((v) => ({ ...v, longLoss: !v.longLoss }));
    else if (input === '?') setView((v) => ({ ...v, help: !v.help }));
  });
  return <TrainDashboard state={state} width={width} view={view} />;
}
