// A menu button (WAI-ARIA APG pattern): opens a list of menuitems, arrow keys move,
// Escape or a click elsewhere closes it.

export class MenuButton {
  constructor(root) {
    this.root = root;
    this.button = root.querySelector("[data-menu-button]");
    this.list = root.querySelector("[role=menu]");
    this.items = [...this.list.querySelectorAll("[role=menuitem]")];
    this.button.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    this.button.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        this.open(event.key === "ArrowUp" ? this.items.length - 1 : 0);
      }
    });
    this.list.addEventListener("keydown", (event) => this.onKey(event));
    for (const item of this.items) item.addEventListener("click", () => this.close());
    document.addEventListener("click", (event) => {
      if (this.isOpen && !root.contains(event.target)) this.close({ focus: false });
    });
  }

  get isOpen() {
    return !this.list.hidden;
  }

  open(index = 0) {
    this.list.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.items[index]?.focus();
  }

  close({ focus = true } = {}) {
    if (!this.isOpen) return;
    this.list.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (focus) this.button.focus();
  }

  onKey(event) {
    const index = this.items.indexOf(document.activeElement);
    const moves = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: this.items.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      const next = (moves[event.key] + this.items.length) % this.items.length;
      this.items[next].focus();
    } else if (event.key === "Escape" || event.key === "Tab") {
      if (event.key === "Escape") event.preventDefault();
      this.close({ focus: event.key === "Escape" });
    }
  }
}
