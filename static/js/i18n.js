// Translations for the ES modules, without a build step: Django's JavaScript catalog
// (/jsi18n/, loaded as a classic script before any module) defines window.django.
// Every user-visible string goes through t() or tn(), which `make messages` extracts.
// Placeholders are named: t("Thought for %(seconds)s", { seconds }).

const catalog = globalThis.django;

function fill(text, values) {
  if (!values) return text;
  return text.replace(/%\((\w+)\)s/g, (whole, name) =>
    name in values ? String(values[name]) : whole,
  );
}

export function t(msgid, values) {
  return fill(catalog ? catalog.gettext(msgid) : msgid, values);
}

// `count` picks the plural form and is also available as %(count)s.
export function tn(singular, plural, count, values) {
  const text = catalog
    ? catalog.ngettext(singular, plural, count)
    : count === 1
      ? singular
      : plural;
  return fill(text, { count, ...values });
}

// A string that has a context (the same English word, two meanings).
export function tp(context, msgid, values) {
  return fill(catalog ? catalog.pgettext(context, msgid) : msgid, values);
}

// The BCP 47 tag for Intl: <html lang> names the language the server chose.
export function locale() {
  const lang = globalThis.document?.documentElement.lang || "en";
  return { "zh-hans": "zh-Hans-CN", "zh-hant": "zh-Hant-TW" }[lang.toLowerCase()] ?? lang;
}
