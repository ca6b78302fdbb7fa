// At most one redraw per interval for live Ink views: draw now when forced or when the interval has passed, otherwise
// once at the end of the interval, so the latest state shows even when no further event comes (a long validation).
export class RedrawThrottle {
  private last = -Infinity;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly intervalMs: number,
    private readonly draw: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  request(force: boolean): void {
    const wait = this.last + this.intervalMs - this.now();
    if (force || wait <= 0) this.drawNow();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.drawNow(), wait);
      this.timer.unref?.();
    }
  }

  /** Draw at once (e.g. the final frame), cancelling a pending draw. */
  drawNow(): void {
    this.cancel();
    this.last = this.now();
    this.draw();
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
