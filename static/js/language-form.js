// The sign-in page's language picker: choosing a language submits its form (which sets
// the language cookie and comes back here).

for (const form of document.querySelectorAll("[data-language-form]")) {
  form.querySelector("select").addEventListener("change", () => form.requestSubmit());
}
