// dfer demo's renderer: its stages' events (synth and prepare as progress bars, the run as the training dashboard,
// the engine and the workspace as lines) in the command's output mode.
import type { DemoEvent } from '../demo.js';
import type { OutputMode } from './output.js';
import { createProgress } from './progress.js';
import { createTrainReporter } from './train.js';
import { workspaceChangeLine } from './workspace.js';

export interface DemoReporter {
  onEvent(e: DemoEvent): void;
  /** Stops drawing (idempotent). */
  finish(): void;
}

export function createDemoReporter(mode: OutputMode, prefix: string): DemoReporter {
  const progress = createProgress(mode, prefix);
  const train = createTrainReporter(mode, prefix);
  return {
    onEvent(e) {
      if (e.type === 'engine') progress.log(`engine: ${e.backend}${e.hint ? ` (${e.hint})` : ''}`);
      else if (e.type === 'workspace') {
        const line = workspaceChangeLine(e.change);
        if (line) progress.log(line);
      } else if (e.type === 'stage') {
        progress.finish();
        if (e.skipped) progress.log(`${e.stage}: already done in ${e.dir}`);
      } else if ((e.type === 'synth' || e.type === 'prepare') && e.event.type === 'start')
        progress.start(e.type, e.event.total, 'clips');
      else if ((e.type === 'synth' || e.type === 'prepare') && e.event.type === 'clip') progress.update(e.event.done);
      else if (e.type === 'train') train.onEvent(e.event);
    },
    finish() {
      train.finish();
      progress.finish();
    },
  };
}
