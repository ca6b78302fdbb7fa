// The one host of dfer's live terminal views (the training dashboard, the ablation grid, progress bars): an Ink
// instance on stderr, redrawn at most once per interval (RedrawThrottle: the latest state still shows when no further
// event comes), unmounted once at the end. Each view is a function of its reporter's state.
import { render, type Instance } from 'ink';
import type { ReactElement } from 'react';
import { RedrawThrottle } from './redraw.js';

export interface LiveStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface LiveViewOptions {
  /** Shortest time between two frames (default 100 ms). */
  redrawMs?: number;
  /** Ink's debug mode (every frame written whole; tests read them). */
  debug?: boolean;
  now?: () => number;
}

export class LiveView {
  private ink?: Instance;
  private done = false;
  private readonly redrawMs: number;
  private readonly throttle: RedrawThrottle;

  constructor(
    private readonly stream: LiveStream,
    /** The current frame, given the terminal's width. */
    private readonly view: (width: number) => ReactElement,
    private readonly opts: LiveViewOptions = {},
  ) {
    this.redrawMs = opts.redrawMs ?? 100;
    this.throttle = new RedrawThrottle(this.redrawMs, () => this.draw(), opts.now ?? Date.now);
  }

  /** A new state to show: at once when `now`, else within the interval. Ignored after close. */
  update(now = false): void {
    if (!this.done) this.throttle.request(now);
  }

  /** The final frame, then the terminal is released (idempotent). */
  close(): void {
    if (this.done) return;
    this.done = true;
    this.throttle.drawNow();
    this.ink?.unmount();
    this.ink = undefined;
  }

  get closed(): boolean {
    return this.done;
  }

  private draw(): void {
    const frame = this.view(Math.max(40, this.stream.columns ?? 80));
    if (this.ink) this.ink.rerender(frame);
    else {
      const stream = this.stream as NodeJS.WriteStream;
      // patchConsole: stray console output (backend notices) is printed above the view instead of through it.
      this.ink = render(frame, {
        stdout: stream,
        stderr: stream,
        patchConsole: true,
        exitOnCtrlC: false,
        maxFps: Math.max(1, Math.round(1000 / this.redrawMs)),
        debug: this.opts.debug,
      });
    }
  }
}
