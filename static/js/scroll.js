// Follow a growing conversation unless the reader scrolled up to read.

const SLACK_PX = 40;

export class ScrollFollower {
  constructor(scroller, jumpButton) {
    this.scroller = scroller;
    this.jumpButton = jumpButton;
    this.sticky = true;
    scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    // A wheel or touch move upwards means "let me read", even inside the slack.
    scroller.addEventListener(
      "wheel",
      (event) => {
        if (event.deltaY < 0) {
          this.sticky = false;
          this.programmatic = false;
        }
      },
      { passive: true },
    );
    scroller.addEventListener(
      "touchmove",
      () => {
        this.sticky = this.atBottom();
      },
      { passive: true },
    );
    // A smooth scroll aims at the height it started with; if the reply grew
    // meanwhile, finish the way down.
    scroller.addEventListener("scrollend", () => {
      if (this.programmatic && this.sticky && !this.atBottom()) this.toBottom();
      else this.programmatic = false;
    });
    jumpButton.addEventListener("click", () => this.toBottom({ smooth: true }));
  }

  atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight <= SLACK_PX;
  }

  // Our own scrolls (a smooth one fires many events on its way down) never
  // unstick; they count as ours until they reach the bottom.
  onScroll() {
    const atBottom = this.atBottom();
    if (atBottom) {
      this.sticky = true;
      this.programmatic = false;
    } else if (!this.programmatic) {
      this.sticky = false;
    }
    this.jumpButton.hidden = atBottom;
  }

  // Call after content changed.
  follow() {
    if (this.sticky) this.toBottom();
    else this.jumpButton.hidden = this.atBottom();
  }

  toBottom({ smooth = false } = {}) {
    this.sticky = true;
    const s = this.scroller;
    this.programmatic = s.scrollHeight - s.clientHeight - s.scrollTop > 1;
    this.scroller.scrollTo({
      top: this.scroller.scrollHeight,
      behavior: smooth ? "smooth" : "auto",
    });
    this.jumpButton.hidden = true;
  }
}
