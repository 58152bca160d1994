// Numbers, durations, money and dates as people read them, in the page's language.

import { locale, t } from "./i18n.js";

const LOCALE = locale();
const integer = new Intl.NumberFormat(LOCALE);
const tenths = new Intl.NumberFormat(LOCALE, {
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});

// `approximate`: the count was estimated, not reported ("~1,532").
export function formatInt(value, { approximate = false } = {}) {
  return `${approximate ? "~" : ""}${integer.format(value ?? 0)}`;
}

export function formatMegabytes(value) {
  return new Intl.NumberFormat(LOCALE, { style: "unit", unit: "megabyte" }).format(value);
}

// A short list of labels: "hybrid thinking, vision" (Japanese and Chinese use "、").
export function formatList(items) {
  return new Intl.ListFormat(LOCALE, { type: "conjunction", style: "narrow" }).format(items);
}

export function formatSeconds(ms) {
  // Translators: a duration in seconds, e.g. "12.4 s".
  return t("%(seconds)s s", { seconds: tenths.format(Math.max(0, ms) / 1000) });
}

// A live counter's duration in whole seconds, e.g. "12 s".
export function formatWholeSeconds(ms) {
  return t("%(seconds)s s", { seconds: integer.format(Math.floor(Math.max(0, ms) / 1000)) });
}

// Costs are often fractions of a cent: small ones keep two significant digits.
export function formatCost(cost, currency) {
  if (cost === null || cost === undefined || cost === "") return "";
  const value = Number(cost);
  const options = { style: "currency", currency: currency || "USD" };
  if (value > 0 && value < 0.0001) {
    return `<${new Intl.NumberFormat(LOCALE, { ...options, maximumFractionDigits: 4 }).format(0.0001)}`;
  }
  const digits =
    value === 0
      ? { maximumFractionDigits: 0 }
      : value < 0.01
        ? { maximumSignificantDigits: 2 }
        : { minimumFractionDigits: value < 1 ? 4 : 2, maximumFractionDigits: value < 1 ? 4 : 2 };
  return new Intl.NumberFormat(LOCALE, { ...options, ...digits }).format(value);
}

export function parseTime(iso) {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(ms) ? null : ms;
}

const DAY = 24 * 60 * 60 * 1000;

function startOfDay(ms) {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

// The sidebar's heading for a conversation last updated at `iso`.
export function dateGroup(iso, now = Date.now()) {
  const ms = parseTime(iso) ?? now;
  const today = startOfDay(now);
  if (ms >= today) return t("Today");
  if (ms >= today - DAY) return t("Yesterday");
  if (ms >= today - 7 * DAY) return t("Previous 7 days");
  if (ms >= today - 30 * DAY) return t("Previous 30 days");
  return new Date(ms).toLocaleDateString(LOCALE, { month: "long", year: "numeric" });
}

export function formatDateTime(iso) {
  const ms = parseTime(iso);
  if (ms === null) return "";
  return new Date(ms).toLocaleString(LOCALE, { dateStyle: "medium", timeStyle: "short" });
}
