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
        if (event.deltaY < 0) this.sticky = false;
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
    jumpButton.addEventListener("click", () => this.toBottom({ smooth: true }));
  }

  atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight <= SLACK_PX;
  }

  onScroll() {
    const atBottom = this.atBottom();
    if (atBottom) this.sticky = true;
    else if (!this.programmatic) this.sticky = false;
    this.programmatic = false;
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
