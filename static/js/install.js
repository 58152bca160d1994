// Registers the service worker that shows an offline page when the server is out of reach
// (static/js/sw.js). Browsers offer it only in a secure context (HTTPS or localhost).

export function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {
    // No offline page then; the app works the same.
  });
}
