// Short notes in a corner: API errors and confirmations.

export function toast(text, { kind = "error", ms = 5000 } = {}) {
  const box = document.querySelector("[data-toasts]");
  const note = document.createElement("div");
  note.className = `toast toast-${kind}`;
  note.textContent = text;
  box.append(note);
  window.setTimeout(() => note.classList.add("is-leaving"), ms - 300);
  window.setTimeout(() => note.remove(), ms);
}

export function announce(text) {
  const region = document.querySelector("[data-announcer]");
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}

// Await an API call; report its error in a toast and rethrow.
export async function reported(promise) {
  try {
    return await promise;
  } catch (error) {
    toast(error.message);
    throw error;
  }
}
