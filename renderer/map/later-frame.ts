/**
 * One piece of drawing, run in an animation frame no sooner than a given wait: asked again while it is
 * pending, it stays one (changes in between are drawn by that one run). The tile layer keeps drawing to a
 * share of the main thread this way (docs/dashboard.md, "A million units").
 */
export class LaterFrame {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private frame = 0;

  constructor(private readonly run: () => void) {}

  get pending(): boolean {
    return this.timer !== null || this.frame !== 0;
  }

  /** Runs in the first frame after `waitMs` (≤ 0: the next frame), unless already pending. */
  schedule(waitMs: number): void {
    if (this.pending) return;
    const inFrame = () => {
      this.timer = null;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.run();
      });
    };
    if (waitMs > 0) this.timer = setTimeout(inFrame, waitMs);
    else inFrame();
  }

  cancel(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    if (this.timer) clearTimeout(this.timer);
    this.frame = 0;
    this.timer = null;
  }
}
