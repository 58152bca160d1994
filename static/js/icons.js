// Inline SVG icons (constant markup, never model text).

const PATHS = {
  copy: '<rect x="9" y="9" width="11" height="11" rx="2"/><path d="M5 15V6a2 2 0 012-2h8"/>',
  check: '<path d="M5 12.5l4.5 4.5L19 7.5"/>',
  regenerate: '<path d="M20 11a8 8 0 10-2.3 5.7M20 5v6h-6"/>',
  chevronLeft: '<path d="M14.5 6l-6 6 6 6"/>',
  chevronRight: '<path d="M9.5 6l6 6-6 6"/>',
  chevronDown: '<path d="M6 9.5l6 6 6-6"/>',
  pencil: '<path d="M4 20h4L19 9l-4-4L4 16v4zM13.5 6.5l4 4"/>',
  trash: '<path d="M4 7h16M9 7V4.5h6V7M6.5 7l1 13h9l1-13"/>',
  alert: '<circle cx="12" cy="12" r="9"/><path d="M12 7.5v6M12 16.5v.5"/>',
  stop: '<rect x="7" y="7" width="10" height="10" rx="1.5"/>',
  spark:
    '<path d="M12 3v3M12 18v3M3 12h3M18 12h3M5.6 5.6l2.1 2.1M16.3 16.3l2.1 2.1M5.6 18.4l2.1-2.1M16.3 7.7l2.1-2.1"/>',
  close: '<path d="M6 6l12 12M18 6L6 18"/>',
  plus: '<path d="M12 5v14M5 12h14"/>',
  sliders:
    '<path d="M4 7h10M18 7h2M4 17h4M12 17h8"/><circle cx="16" cy="7" r="2"/><circle cx="10" cy="17" r="2"/>',
  paperclip:
    '<path d="M20 11.5l-7.8 7.8a5 5 0 01-7.1-7.1l8.2-8.2a3.3 3.3 0 014.7 4.7l-8.1 8.1a1.7 1.7 0 01-2.4-2.4l7.4-7.4"/>',
  bulb: '<path d="M9 18h6M10 21h4M12 3a6 6 0 00-3.5 10.9c.6.5 1 1.2 1 2.1h5c0-.9.4-1.6 1-2.1A6 6 0 0012 3z"/>',
};

export function icon(name, className = "icon") {
  const template = document.createElement("template");
  template.innerHTML = `<svg class="${className}" viewBox="0 0 24 24" aria-hidden="true" focusable="false">${PATHS[name]}</svg>`;
  return template.content.firstElementChild;
}

// An icon-only button: the accessible name is `label`, also shown as a tooltip.
export function iconButton(name, label, { className = "icon-btn" } = {}) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = className;
  button.setAttribute("aria-label", label);
  button.title = label;
  button.append(icon(name));
  return button;
}

// Show a check (or an alert) on `button` for a moment, then its `name` icon again.
export function flashIcon(button, ok, name = "copy") {
  button.classList.add(ok ? "is-done" : "is-failed");
  button.replaceChildren(icon(ok ? "check" : "alert"));
  window.setTimeout(() => {
    button.classList.remove("is-done", "is-failed");
    button.replaceChildren(icon(name));
  }, 1500);
}
